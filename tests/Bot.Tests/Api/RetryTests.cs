using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;
using nietras.SeparatedValues;
using WireMock.ResponseBuilders;

namespace Bot.Tests.Api;

/// <summary>
/// <c>POST /api/announcements/{id}/retry</c> against a real dispatcher and the WhatsApp stub: each chosen delivery gets
/// exactly one more send, however often or however concurrently the retry is asked for.
/// </summary>
public sealed class RetryTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RetryingFailedSendsEachOnceMoreAndUnknownOnlyWhenNamed()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(5);
        var (undeliverable1, undeliverable2, lost) = (employees[0], employees[1], employees[2]);
        scenario.Stub.ForRecipient(undeliverable1.Phone).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        scenario.Stub.ForRecipient(undeliverable2.Phone).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        scenario.Stub.ForRecipient(lost.Phone).RespondWith(Response.Create().WithStatusCode(500));
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Payroll is out" });
        var done = await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);
        Assert.Equal(new Scenario.CountsView(5, 2, 0, 0, 2, 1, 0), done.Counts);
        await scenario.Stub.WhenSentAsync(5);

        // Failed only: the two undeliverable ones go again, the unknown one (it may have reached its employee) does not.
        var retry = await RetryAsync(scenario, id, new { states = new[] { "failed" } }, idempotencyKey: "retry-payroll");
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(2, (await retry.Content.ReadFromJsonAsync<RetryBody>())!.Retrying);
        var again = await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);
        await scenario.Stub.WhenSentAsync(7);
        Assert.Equal([2, 2, 1, 1, 1], employees.Select(e => scenario.Stub.CountTo(e.Phone)));
        Assert.Equal(7, scenario.Stub.Sends.Count);
        Assert.Equal(new Scenario.CountsView(5, 2, 0, 0, 2, 1, 0), again.Counts);

        // The same request again with its key: the same answer, and nobody is sent anything.
        var replay = await RetryAsync(scenario, id, new { states = new[] { "failed" } }, idempotencyKey: "retry-payroll");
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(2, (await replay.Content.ReadFromJsonAsync<RetryBody>())!.Retrying);
        Assert.Equal(AnnouncementStatus.Completed, (await scenario.GetAnnouncementAsync(id)).Status);
        var reused = await RetryAsync(scenario, id, new { states = new[] { "unknown" } }, idempotencyKey: "retry-payroll");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);

        // Attempts in the deliveries and the export.
        var deliveries = await DeliveriesAsync(scenario, id);
        Assert.Equal([2, 2, 1, 1, 1], employees.Select(e => deliveries[e.Id]["attempts"]!.GetValue<int>()));
        Assert.Equal("failed", deliveries[undeliverable1.Id]["state"]!.GetValue<string>());
        var csv = await scenario.Api.GetStringAsync($"/api/announcements/{id}/deliveries.csv");
        using (var reader = Sep.Reader().FromText(csv))
        {
            var attempts = reader.Enumerate(row => (row["employeeId"].ToString(), row["attempts"].ToString())).ToDictionary();
            Assert.Equal(["2", "2", "1", "1", "1"], employees.Select(e => attempts[e.Id]));
        }

        // Unknown only when named: now it goes once more too, the failed ones do not.
        var unknown = await RetryAsync(scenario, id, new { states = new[] { "unknown" } });
        Assert.Equal(1, (await unknown.Content.ReadFromJsonAsync<RetryBody>())!.Retrying);
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);
        await scenario.Stub.WhenSentAsync(8);
        Assert.Equal([2, 2, 2, 1, 1], employees.Select(e => scenario.Stub.CountTo(e.Phone)));
        Assert.Equal(2, (await DeliveriesAsync(scenario, id))[lost.Id]["attempts"]!.GetValue<int>());

        // Written to the employer's audit with the key that asked.
        var audit = (await scenario.Api.GetFromJsonAsync<JsonNode>("/api/audit"))!["items"]!.AsArray();
        var retries = audit.Where(e => e!["action"]!.GetValue<string>() == "announcement.retry").ToList();
        Assert.Equal(2, retries.Count);
        Assert.All(retries, e =>
        {
            Assert.Equal(id, e!["target"]!.GetValue<string>());
            Assert.Equal(scenario.EmployerId, e["employerId"]!.GetValue<string>());
            Assert.StartsWith("key:", e["actor"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task TwoRetriesAtOnceSendEachFailedDeliveryExactlyOnceMore()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(8);
        var failing = employees.Take(5).ToList();
        foreach (var employee in failing)
            scenario.Stub.ForRecipient(employee.Phone).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        // Two dispatchers: the retried deliveries may be claimed by either, or both at once.
        await scenario.StartDispatchersAsync(2);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Site closed tomorrow" });
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);
        await scenario.Stub.WhenSentAsync(8);

        // A double click: both requests race over the same five failed deliveries.
        var body = new { states = new[] { "failed" }, errors = new[] { "131026" } };
        var answers = await Task.WhenAll(RetryAsync(scenario, id, body), RetryAsync(scenario, id, body));

        // Each one took what the other had not; one that came too late is told the announcement is dispatching.
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict, a.StatusCode.ToString()));
        var retrying = 0;
        foreach (var answer in answers.Where(a => a.StatusCode == HttpStatusCode.Accepted))
            retrying += (await answer.Content.ReadFromJsonAsync<RetryBody>())!.Retrying;
        Assert.Equal(5, retrying);
        var done = await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);
        await scenario.Stub.WhenSentAsync(13);
        Assert.Equal(13, scenario.Stub.Sends.Count);
        Assert.All(failing, e => Assert.Equal(2, scenario.Stub.CountTo(e.Phone)));
        Assert.All(employees.Skip(5), e => Assert.Equal(1, scenario.Stub.CountTo(e.Phone)));
        Assert.Equal(new Scenario.CountsView(8, 3, 0, 0, 5, 0, 0), done.Counts);
        var deliveries = await DeliveriesAsync(scenario, id);
        Assert.All(failing, e => Assert.Equal(2, deliveries[e.Id]["attempts"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AnErrorFilterTakesOnlyDeliveriesThatFailedWithThoseCodes()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(3);
        scenario.Stub.ForRecipient(employees[0].Phone).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        scenario.Stub.ForRecipient(employees[1].Phone).RespondWith(WhatsAppStub.GraphError(400, 131050, "User opted out of marketing"));
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Canteen menu" });
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);
        await scenario.Stub.WhenSentAsync(3);

        var retry = await RetryAsync(scenario, id, new { states = new[] { "failed", "unknown" }, errors = new[] { "131050" } });

        Assert.Equal(1, (await retry.Content.ReadFromJsonAsync<RetryBody>())!.Retrying);
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);
        await scenario.Stub.WhenSentAsync(4);
        Assert.Equal([1, 2, 1], employees.Select(e => scenario.Stub.CountTo(e.Phone)));
    }

    [Fact]
    public async Task RetryIsRefusedWhileScheduledOrDispatchingForBadInputAndForOtherEmployers()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(2);
        var failed = new { states = new[] { "failed" } };

        var scheduled = await scenario.CreateAnnouncementAsync(new { message = "Later", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") });
        await AssertConflictAsync(await RetryAsync(scenario, scheduled, failed));

        // No dispatcher runs in this scenario: the announcement stays dispatching once started.
        var dispatching = await scenario.CreateAnnouncementAsync(new { message = "Now" });
        var store = scenario.AppServices.GetRequiredService<AnnouncementStore>();
        Assert.Equal(AnnouncementStatus.Scheduled, await store.Lifecycle.StartAsync(dispatching));
        await AssertConflictAsync(await RetryAsync(scenario, dispatching, new { states = new[] { "failed", "unknown" } }));
        // Refused while busy, a request did nothing: its Idempotency-Key is not spent, and works once the announcement is done.
        await AssertConflictAsync(await RetryAsync(scenario, dispatching, failed, idempotencyKey: "after-dispatch"));

        await Problems.AssertNamesFieldAsync(await RetryAsync(scenario, scheduled, new { }), "states");
        await Problems.AssertNamesFieldAsync(await RetryAsync(scenario, scheduled, new { states = Array.Empty<string>() }), "states");
        await Problems.AssertNamesFieldAsync(await RetryAsync(scenario, scheduled, new { states = new[] { "sent" } }), "states");
        await Problems.AssertNamesFieldAsync(await RetryAsync(scenario, scheduled, new { states = new[] { "failed" }, errors = Array.Empty<string>() }), "errors");
        await Problems.AssertNamesFieldAsync(await RetryAsync(scenario, scheduled, new { states = new[] { "failed" }, errors = new[] { "131 026" } }), "errors");
        var notJson = await scenario.Api.PostAsync($"/api/announcements/{scheduled}/retry", new StringContent("{\"states\":\"failed\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);

        using var other = scenario.ClientFor(Scenario.OtherApiKey);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync($"/api/announcements/{dispatching}/retry", failed)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await RetryAsync(scenario, "0194f3b2c1d07a8e9b3c4d5e6f708192", failed)).StatusCode);
        // Started so long ago that the first pass's delivery records could expire before a retry's pass ends: refused.
        var old = await scenario.CreateAnnouncementAsync(new { message = "Last month" });
        Assert.Equal(AnnouncementStatus.Scheduled, await store.Lifecycle.StartAsync(old));
        Assert.True(await store.Lifecycle.CompleteAsync(old));
        await scenario.Redis.HashSetAsync(RedisKeys.Announcement(old), "startedAt", DateTimeOffset.UtcNow.AddDays(-28).ToUnixTimeMilliseconds());
        var tooOld = await RetryAsync(scenario, old, failed);
        await AssertConflictAsync(tooOld);
        Assert.Contains("DeliveryRetention", await tooOld.Content.ReadAsStringAsync());
        Assert.Equal(AnnouncementStatus.Completed, (await scenario.GetAnnouncementAsync(old)).Status);

        Assert.True(await store.Lifecycle.CompleteAsync(dispatching));
        var afterDispatch = await RetryAsync(scenario, dispatching, failed, idempotencyKey: "after-dispatch");
        Assert.Equal(HttpStatusCode.Accepted, afterDispatch.StatusCode);
        Assert.Equal(0, (await afterDispatch.Content.ReadFromJsonAsync<RetryBody>())!.Retrying);

        // Nothing moved: the refused ones keep their status, and a retry with nothing to retry leaves it completed.
        Assert.Equal(AnnouncementStatus.Scheduled, (await scenario.GetAnnouncementAsync(scheduled)).Status);
        Assert.Equal(AnnouncementStatus.Completed, (await scenario.GetAnnouncementAsync(dispatching)).Status);
    }

    private static async Task AssertConflictAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Conflict, $"{(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<HttpResponseMessage> RetryAsync(Scenario scenario, string id, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/announcements/{id}/retry") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await scenario.Api.SendAsync(request);
    }

    private static async Task<Dictionary<string, JsonNode>> DeliveriesAsync(Scenario scenario, string id)
    {
        var page = await scenario.Api.GetFromJsonAsync<JsonNode>($"/api/announcements/{id}/deliveries?limit=100");
        return page!["items"]!.AsArray().ToDictionary(d => d!["employeeId"]!.GetValue<string>(), d => d!);
    }

    private sealed record RetryBody(int Retrying);
}
