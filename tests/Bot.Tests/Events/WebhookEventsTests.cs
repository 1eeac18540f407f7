using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bot.Core.Events;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Bot.Webhook.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Events;

/// <summary>
/// Events out end to end: a real dispatcher sends, the webhook host's worker POSTs signed events to a real HTTP receiver.
/// </summary>
public sealed class WebhookEventsTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Dictionary<string, string?> Fast(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Webhooks:AllowHttp"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.050",
            ["Webhooks:FirstRetryDelay"] = "00:00:00.100",
            ["Webhooks:MaxRetryDelay"] = "00:00:00.200",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    private sealed record EndpointView(string Url, string[] Events, string? Secret);

    private sealed record AttemptView(string EventId, string Type, DateTimeOffset At, int Attempt, int? StatusCode, string? Error, string Outcome);

    private sealed record AttemptsView(AttemptView[] Items);

    private static async Task<EndpointView> RegisterAsync(HttpClient api, string url, params string[] events)
    {
        var response = await api.PutAsJsonAsync("/api/webhooks", events.Length == 0 ? new { url } : (object)new { url, events });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<EndpointView>())!;
    }

    private static Task<IReadOnlyList<ReceivedEvent>> WaitForDeliveredAsync(EventReceiver receiver, int count) =>
        Eventually.WaitAsync(() => Task.FromResult(receiver.Delivered), d => d.Count >= count, Timeout, $"{count} event(s) delivered");

    /// <summary>Nothing left to send: the employer's queue and its outboxes are empty, so no further event will come.</summary>
    private static async Task AssertDrainedAsync(Scenario scenario, string employerId, params string[] announcementIds)
    {
        await Eventually.WaitAsync(async () => await scenario.Redis.SortedSetLengthAsync(EventKeys.Due(employerId)) == 0, Timeout, "queue drained");
        Assert.Equal(0, await scenario.Redis.HashLengthAsync(EventKeys.Events(employerId)));
        foreach (var id in announcementIds) Assert.Equal(0, await scenario.Redis.StreamLengthAsync(EventKeys.Outbox(id)));
    }

    private static JsonNode Json(ReceivedEvent e) => JsonNode.Parse(e.Body)!;

    private static string TypeOf(ReceivedEvent e) => (string)Json(e)["type"]!;

    [Fact]
    public async Task SentDeliveredReadAndCompletedArriveSignedWithTheSecret()
    {
        await using var receiver = new EventReceiver();
        await using var scenario = new Scenario(redis, Fast());
        var endpoint = await RegisterAsync(scenario.Api, receiver.Url);
        Assert.StartsWith("whsec_", endpoint.Secret);
        Assert.Equal(EndpointStore.EventTypes, endpoint.Events);
        var employees = await scenario.AddEmployeesAsync(2);
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Canteen closed Friday" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var sent = (await scenario.GetDeliveriesAsync(id)).ToDictionary(d => d.EmployeeId, d => d.MessageId!);
        var (reader, readerPhone) = employees[0];
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(sent[reader], "delivered", readerPhone, $"{id}:{reader}")));
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(sent[reader], "read", readerPhone, $"{id}:{reader}")));

        var delivered = await WaitForDeliveredAsync(receiver, 5);
        await AssertDrainedAsync(scenario, scenario.EmployerId, id);

        Assert.Equal(5, receiver.Received.Count);
        Assert.Equal(["announcement.completed", "delivery.delivered", "delivery.read", "delivery.sent", "delivery.sent"],
            delivered.Select(TypeOf).Order());
        Assert.All(delivered, e => Assert.True(EventReceiver.Verifies(e, endpoint.Secret!), $"signature of {e.Id}"));
        Assert.Equal(5, delivered.Select(e => e.Id).Distinct().Count());
        var read = Json(delivered.Single(e => TypeOf(e) == "delivery.read"))["data"]!;
        Assert.Equal(id, (string)read["announcementId"]!);
        Assert.Equal(reader, (string)read["employeeId"]!);
        Assert.Equal("read", (string)read["state"]!);
        Assert.Equal(sent[reader], (string)read["messageId"]!);
        Assert.Equal(id, (string)Json(delivered.Single(e => TypeOf(e) == "announcement.completed"))["data"]!["announcementId"]!);
        // The secret is at rest only encrypted.
        Assert.NotEqual(endpoint.Secret, (string?)await scenario.Redis.HashGetAsync(EventKeys.Endpoint(scenario.EmployerId), "secret"));
    }

    [Fact]
    public async Task AnEndpointGetsOnlyTheTypesItAskedForAndOnlyItsEmployersEvents()
    {
        await using var mine = new EventReceiver();
        await using var theirs = new EventReceiver();
        await using var scenario = new Scenario(redis, Fast());
        using var other = scenario.ClientFor(Scenario.OtherApiKey);
        var endpoint = await RegisterAsync(scenario.Api, mine.Url, "announcement.completed");
        Assert.Equal(["announcement.completed"], endpoint.Events);
        await RegisterAsync(other, theirs.Url);
        await scenario.AddEmployeesAsync(3);
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Parking lot repainting" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);

        var delivered = await WaitForDeliveredAsync(mine, 1);
        await AssertDrainedAsync(scenario, scenario.EmployerId, id);
        Assert.Equal("announcement.completed", TypeOf(Assert.Single(mine.Received)));
        Assert.Equal(id, (string)Json(delivered[0])["data"]!["announcementId"]!);
        Assert.Empty(theirs.Received);
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(EventKeys.Due("other")));
    }

    [Fact]
    public async Task AReceiverThatIsDownGetsEverythingOnceItIsBackWithTheSameIdOnEveryRetry()
    {
        // Down: nothing listens on its port, then it answers 503, then 200.
        await using var receiver = new EventReceiver(listening: false) { Answer = 503 };
        await using var scenario = new Scenario(redis, Fast());
        var endpoint = await RegisterAsync(scenario.Api, receiver.Url);
        await scenario.AddEmployeesAsync(3);
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Server maintenance tonight" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var refused = await Eventually.WaitAsync(
            async () => (await scenario.Api.GetFromJsonAsync<AttemptsView>("/api/webhooks/attempts?status=retrying&limit=200"))!.Items,
            a => a.Select(x => x.EventId).Distinct().Count() == 4, Timeout, "every event refused a connection");
        Assert.All(refused, a => Assert.Null(a.StatusCode));
        await receiver.StartAsync();
        // Three sent and the completion, each answered 503 at least twice.
        await Eventually.WaitAsync(() => Task.FromResult(receiver.Received.ToArray()),
            r => r.GroupBy(e => e.Id).Count(g => g.Count() >= 2) == 4, Timeout, "every event retried");
        receiver.Answer = 200;

        var delivered = await WaitForDeliveredAsync(receiver, 4);
        await AssertDrainedAsync(scenario, scenario.EmployerId, id);
        Assert.Equal(["announcement.completed", "delivery.sent", "delivery.sent", "delivery.sent"], delivered.Select(TypeOf).Order());
        foreach (var attempts in receiver.Received.GroupBy(e => e.Id))
        {
            // One event, one body, whatever the attempt; each attempt signed afresh with its own timestamp.
            Assert.Single(attempts.Select(a => a.Body).Distinct());
            Assert.All(attempts, a => Assert.True(EventReceiver.Verifies(a, endpoint.Secret!)));
            Assert.Equal(1, attempts.Count(a => a.Answered == 200));
        }
        var log = (await scenario.Api.GetFromJsonAsync<AttemptsView>("/api/webhooks/attempts?limit=200"))!.Items;
        Assert.Equal(4, log.Count(a => a.Outcome == "delivered"));
        Assert.Equal(receiver.Received.Count(r => r.Answered == 503), log.Count(a => a.StatusCode == 503));
        Assert.All(log.Where(a => a.Outcome == "retrying"), a => Assert.True(a.StatusCode is null or 503, $"{a.StatusCode}"));
    }

    [Fact]
    public async Task AHangingEndpointDelaysNeitherDispatchingNorAnotherEmployersEvents()
    {
        await using var hanging = new EventReceiver();
        await using var prompt = new EventReceiver();
        hanging.Hold();
        await using var scenario = new Scenario(redis, Fast(("Webhooks:Timeout", "00:01:00")));
        using var other = scenario.ClientFor(Scenario.OtherApiKey);
        await RegisterAsync(scenario.Api, hanging.Url);
        await RegisterAsync(other, prompt.Url);
        await scenario.AddEmployeesAsync(3);
        var csv = new StringContent("employeeId,phone\nx1,+16505559001\nx2,+16505559002\n", Encoding.UTF8, "text/csv");
        (await other.PostAsync("/api/employees/import", csv)).EnsureSuccessStatusCode();
        await scenario.StartDispatchersAsync(1);

        var mine = await scenario.CreateAnnouncementAsync(new { message = "To the hanging endpoint's employer" });
        await scenario.WaitForStatusAsync(mine, "completed", Timeout);
        var theirsResponse = await other.PostAsJsonAsync("/api/announcements", new { message = "To the other employer" });
        Assert.True(theirsResponse.IsSuccessStatusCode, await theirsResponse.Content.ReadAsStringAsync());
        var theirs = (string)(await theirsResponse.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        // The other employer's three events arrive while every POST to the hanging endpoint is still unanswered.
        var delivered = await WaitForDeliveredAsync(prompt, 3);
        Assert.Empty(hanging.Received);
        Assert.True(hanging.Arrived >= 1, "the hanging endpoint was called");
        Assert.Equal(["announcement.completed", "delivery.sent", "delivery.sent"], delivered.Select(TypeOf).Order());
        Assert.All(delivered, e => Assert.Equal(theirs, (string)Json(e)["data"]!["announcementId"]!));

        hanging.Release();
        var mineDelivered = await WaitForDeliveredAsync(hanging, 4);
        await AssertDrainedAsync(scenario, scenario.EmployerId, mine);
        await AssertDrainedAsync(scenario, "other", theirs);
        Assert.All(mineDelivered, e => Assert.Equal(mine, (string)Json(e)["data"]!["announcementId"]!));
        Assert.Equal(3, prompt.Received.Count);
    }

    [Fact]
    public async Task EventsGivenUpAreListedAsFailedAndAReplaySendsThemWithTheirIds()
    {
        await using var receiver = new EventReceiver { Answer = 500 };
        await using var scenario = new Scenario(redis, Fast(("Webhooks:RetryFor", "00:00:00.500")));
        await RegisterAsync(scenario.Api, receiver.Url);
        await scenario.AddEmployeesAsync(1);
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Badge renewal" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var failed = await Eventually.WaitAsync(
            async () => (await scenario.Api.GetFromJsonAsync<AttemptsView>("/api/webhooks/attempts?status=failed"))!.Items,
            f => f.Length == 2, Timeout, "two failed events");
        Assert.Equal(["announcement.completed", "delivery.sent"], failed.Select(f => f.Type).Order());
        Assert.All(failed, f => Assert.Equal(500, f.StatusCode));
        Assert.All(failed, f => Assert.True(f.Attempt >= 2, $"{f.EventId} tried {f.Attempt} time(s)"));
        var refusedBeforeReplay = receiver.Received.Count;

        receiver.Answer = 200;
        var replay = await scenario.Api.PostAsJsonAsync("/api/webhooks/replay", new { since = DateTimeOffset.UtcNow.AddHours(-1) });
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(2, (await replay.Content.ReadFromJsonAsync<JsonObject>())!["replayed"]!.GetValue<long>());

        var delivered = await WaitForDeliveredAsync(receiver, 2);
        await AssertDrainedAsync(scenario, scenario.EmployerId, id);
        Assert.Equal(failed.Select(f => f.EventId).Order(), delivered.Select(d => d.Id).Order());
        Assert.Equal(refusedBeforeReplay + 2, receiver.Received.Count);
        Assert.Empty((await scenario.Api.GetFromJsonAsync<AttemptsView>("/api/webhooks/attempts?status=failed"))!.Items);
    }

    [Fact]
    public async Task ARotatedSecretSignsEverythingAfterTheRotation()
    {
        await using var receiver = new EventReceiver();
        await using var scenario = new Scenario(redis, Fast());
        var first = (await RegisterAsync(scenario.Api, receiver.Url)).Secret!;
        await scenario.AddEmployeesAsync(1);
        await scenario.StartDispatchersAsync(1);
        var before = await scenario.CreateAnnouncementAsync(new { message = "First" });
        await scenario.WaitForStatusAsync(before, "completed", Timeout);
        await WaitForDeliveredAsync(receiver, 2);
        await AssertDrainedAsync(scenario, scenario.EmployerId, before);

        var rotate = await scenario.Api.PostAsync("/api/webhooks/rotate-secret", null);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var second = (await rotate.Content.ReadFromJsonAsync<EndpointView>())!.Secret!;
        Assert.NotEqual(first, second);
        // Reading the endpoint never shows a secret again, and changing its url keeps the secret.
        Assert.Null((await scenario.Api.GetFromJsonAsync<EndpointView>("/api/webhooks"))!.Secret);
        Assert.Null((await RegisterAsync(scenario.Api, receiver.Url)).Secret);
        var after = await scenario.CreateAnnouncementAsync(new { message = "Second" });
        await scenario.WaitForStatusAsync(after, "completed", Timeout);

        var delivered = await WaitForDeliveredAsync(receiver, 4);
        await AssertDrainedAsync(scenario, scenario.EmployerId, after);
        Assert.Equal(4, receiver.Received.Count);
        var (old, fresh) = (delivered.Where(e => e.Body.Contains(before)).ToList(), delivered.Where(e => e.Body.Contains(after)).ToList());
        Assert.Equal(2, old.Count);
        Assert.Equal(2, fresh.Count);
        Assert.All(old, e => Assert.True(EventReceiver.Verifies(e, first)));
        Assert.All(fresh, e => Assert.True(EventReceiver.Verifies(e, second) && !EventReceiver.Verifies(e, first)));
    }

    [Fact]
    public async Task WorkersOnSeveralHostsPostEachEventExactlyOnce()
    {
        await using var receiver = new EventReceiver();
        await using var scenario = new Scenario(redis, Fast(("Webhooks:MaxConcurrencyPerEndpoint", "2")));
        await RegisterAsync(scenario.Api, receiver.Url);
        await scenario.AddEmployeesAsync(30);
        // Two more workers beside the webhook host's own, as other hosts would run them (each its own consumer).
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var delivery = new EventDelivery(scenario.AppServices.GetRequiredService<EndpointStore>(), scenario.AppServices.GetRequiredService<EventQueue>(),
                scenario.AppServices.GetRequiredService<EventSender>(), scenario.AppServices.GetRequiredService<IOptionsMonitor<EventsOptions>>(), TimeProvider.System);
            while (!stop.IsCancellationRequested)
            {
                await delivery.RunOnceAsync(scenario.EmployerId, CancellationToken.None);
                await Task.Delay(10);
            }
        })).ToArray();
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "All hands at noon" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        await WaitForDeliveredAsync(receiver, 31);
        await AssertDrainedAsync(scenario, scenario.EmployerId, id);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Equal(31, receiver.Received.Count);
        Assert.Equal(31, receiver.Received.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task BadInputIs400NamingTheFieldAndNothingIsStored()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Webhooks:AllowHttp"] = "false" });
        string[] badUrls =
        [
            "", "not a url", "ftp://hooks.example.com/in", "http://127.0.0.1:8080/in", "https://10.1.2.3/in", "https://192.168.0.10/in",
            "https://172.20.0.1/in", "https://169.254.169.254/latest/meta-data", "https://127.0.0.1/in", "https://[::1]/in",
            "https://[fd00::1]/in", "https://0.0.0.0/in", "https://user:pw@203.0.113.7/in",
        ];
        foreach (var url in badUrls)
        {
            var response = await scenario.Api.PutAsJsonAsync("/api/webhooks", new { url });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode}");
            var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(problem["errors"]?["url"] is not null, $"{url}: {problem}");
        }
        var badType = await scenario.Api.PutAsJsonAsync("/api/webhooks", new { url = "https://203.0.113.7/in", events = new[] { "delivery.teleported" } });
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        Assert.NotNull((await badType.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["events"]);

        Assert.Equal(HttpStatusCode.NotFound, (await scenario.Api.GetAsync("/api/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await scenario.Api.PostAsync("/api/webhooks/rotate-secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await scenario.ClientFor(null).GetAsync("/api/webhooks")).StatusCode);

        // A public address is fine (it is not contacted at registration), and deleting it is 204 once.
        Assert.Equal(HttpStatusCode.OK, (await scenario.Api.PutAsJsonAsync("/api/webhooks", new { url = "https://203.0.113.7/in" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await scenario.Api.DeleteAsync("/api/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await scenario.Api.DeleteAsync("/api/webhooks")).StatusCode);
    }
}
