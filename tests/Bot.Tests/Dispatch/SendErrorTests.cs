using System.Net.Http.Json;
using Bot.Tests.Harness;
using WireMock.ResponseBuilders;

namespace Bot.Tests.Dispatch;

public sealed class SendErrorTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task ThrottledThenAcceptedIsOneMessageAndEachErrorEndsInItsState()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(6);
        var throttled = employees[0].Phone;
        var undeliverable = employees[1].Phone;
        var slow = employees[2].Phone;
        var serverError = employees[3].Phone;

        // 429 with Retry-After on the first attempt, then the default mapping accepts.
        scenario.Stub.ForRecipient(throttled).InScenario("throttle").WillSetStateTo("retried")
            .RespondWith(WhatsAppStub.GraphError(429, 130429, "Rate limit hit").WithHeader("Retry-After", "1"));
        scenario.Stub.ForRecipient(undeliverable).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        scenario.Stub.ForRecipient(slow).RespondWith(WhatsAppStub.AcceptedResponse(slow).WithDelay(TimeSpan.FromSeconds(8)));
        scenario.Stub.ForRecipient(serverError).RespondWith(Response.Create().WithStatusCode(500));
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Payroll is out" });
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(20));

        Assert.Equal(2, scenario.Stub.CountTo(throttled));
        Assert.Single(scenario.Stub.Accepted, s => s.To == throttled);
        Assert.Equal(1, scenario.Stub.CountTo(undeliverable));
        // WireMock logs the slow request only once its (delayed) answer is written, after the client gave up.
        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.CountTo(slow)), n => n > 0, TimeSpan.FromSeconds(10), "the slow send logged");
        Assert.Equal(1, scenario.Stub.CountTo(slow));
        Assert.Equal(1, scenario.Stub.CountTo(serverError));
        Assert.Equal(new Scenario.CountsView(6, 3, 0, 0, 1, 2, 0), done.Counts);
        Assert.Equal(done.Counts.Targeted, done.Counts.Settled);

        var deliveries = await scenario.Api.GetFromJsonAsync<DeliveryPage>($"/api/announcements/{id}/deliveries?state=failed");
        var failed = Assert.Single(deliveries!.Items);
        Assert.Equal(employees[1].Id, failed.EmployeeId);
        Assert.Equal("131026", failed.Error);
    }

    [Fact]
    public async Task RetryAfterIsHonoured()
    {
        await using var scenario = new Scenario(redis);
        var employee = (await scenario.AddEmployeesAsync(1))[0];
        scenario.Stub.ForRecipient(employee.Phone).InScenario("throttle").WillSetStateTo("retried")
            .RespondWith(WhatsAppStub.GraphError(429, 130429, "Rate limit hit").WithHeader("Retry-After", "2"));
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "hello" });
        await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(10));

        var times = scenario.Stub.Server.LogEntries.Select(e => e.RequestMessage.DateTime).Order().ToList();
        Assert.Equal(2, times.Count);
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(1.9), $"retried after {(times[1] - times[0]).TotalMilliseconds} ms");
    }

    public sealed record DeliveryPage(List<DeliveryItem> Items, string? NextCursor);

    public sealed record DeliveryItem(string EmployeeId, string State, string? MessageId, string? Error);
}
