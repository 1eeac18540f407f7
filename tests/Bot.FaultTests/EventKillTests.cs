using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Core.Events;
using Bot.Tools.WhatsAppStub;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Xunit.Abstractions;

namespace Bot.FaultTests;

/// <summary>
/// Events out under kill -9: the webhook host (API and event worker) and the dispatcher both die in the middle of a fan-out
/// whose events are being POSTed; their replacements take over the outbox entries (XAUTOCLAIM), the claimed events (their
/// claims run out) and the deliveries (the lock and lease), and every delivery's final state still reaches the endpoint.
/// </summary>
public sealed class EventKillTests(ITestOutputHelper output)
{
    private const int Employees = 800;

    private const string ApiKey = "fault-api-key-0123456789";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>About 150 sends a second, each answered after 150 ms: the fan-out takes several seconds.</summary>
    private static readonly Dictionary<string, string> Paced = new()
    {
        ["WhatsApp:MessagesPerSecond"] = "150",
        ["Dispatcher:BatchSize"] = "100",
    };

    /// <summary>Short enough that a dead host's work is taken over within seconds: outbox entries it read but never
    /// acknowledged after <c>ClaimTimeout</c>, events it claimed after <c>Timeout × 5 + 5 s</c> (EventDelivery).</summary>
    private static readonly Dictionary<string, string> Events = new()
    {
        ["Webhooks:AllowHttp"] = "true",
        ["Webhooks:PollInterval"] = "00:00:00.050",
        ["Webhooks:FirstRetryDelay"] = "00:00:00.100",
        ["Webhooks:MaxRetryDelay"] = "00:00:00.500",
        ["Webhooks:Timeout"] = "00:00:01",
        ["Webhooks:ClaimTimeout"] = "00:00:02",
    };

    private sealed record DeliveryView(string EmployeeId, string State);

    private sealed record DeliveryPage(List<DeliveryView> Items, string? NextCursor);

    [Fact]
    public async Task KillingTheWebhookHostAndTheDispatcherMidFanOutStillDeliversEveryFinalState()
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(Employees);
        world.Stub.Server.Given(Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost()).AtPriority(50)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody(r => AcceptedSend.Body((string)JsonNode.Parse(r.Body!)!["to"]!))
                .WithDelay(TimeSpan.FromMilliseconds(150)));
        await using var receiver = new EventReceiver();
        var settings = WebhookProcess.Settings(world, Events);

        var host = HostProcess.StartWebhook(Ports.Free(), settings);
        await using var firstHost = host;
        using var api = Client(await WebhookProcess.WaitUntilLiveAsync(host));
        var registered = await api.PutAsJsonAsync("/api/webhooks", new { url = receiver.Url });
        Assert.True(registered.StatusCode == HttpStatusCode.OK, await registered.Content.ReadAsStringAsync());
        var secret = (string)(await registered.Content.ReadFromJsonAsync<JsonObject>())!["secret"]!;
        var dispatcher = world.StartDispatcher(Paced);
        var created = await api.PostAsJsonAsync("/api/announcements", new { message = "Events under kill -9" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = (string)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        // Mid-flight: sends under way and events arriving, neither anywhere near done.
        await Eventually.WaitAsync(() => Task.FromResult((world.Stub.Sends.Count, receiver.Received.Count)),
            n => n.Item1 >= 250 && n.Item2 >= 50, Timeout, "sends under way and events arriving");
        dispatcher.Kill();
        host.Kill();
        var (sentAtKill, eventsAtKill) = (world.Stub.Sends.Count, receiver.Received.Count);
        // What the dead worker left: outbox entries it read but never acknowledged, and events it had claimed (a claim's
        // score is its expiry, seconds ahead; an event due again after a failed POST is due within MaxRetryDelay).
        var pending = (await world.Db.StreamPendingAsync(EventKeys.Outbox(id), EventKeys.Group)).PendingMessageCount;
        var claimed = await world.Db.SortedSetLengthAsync(EventKeys.Due(FaultWorld.EmployerId), DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds(), double.PositiveInfinity);
        var queued = await world.Db.SortedSetLengthAsync(EventKeys.Due(FaultWorld.EmployerId));
        output.WriteLine($"killed dispatcher {dispatcher.Pid} and webhook host {host.Pid} after {sentAtKill} sends and {eventsAtKill} events received; " +
            $"left behind: {pending} outbox entries read but not acknowledged, {claimed} events claimed, {queued} queued in all");
        Assert.True(sentAtKill < Employees, "the fan-out was over before the kill");

        world.StartDispatcher(Paced);
        await using var secondHost = HostProcess.StartWebhook(Ports.Free(), settings);
        using var api2 = Client(await WebhookProcess.WaitUntilLiveAsync(secondHost));
        await Eventually.WaitAsync(async () => (string?)(await api2.GetFromJsonAsync<JsonObject>($"/api/announcements/{id}"))!["status"],
            s => s == "completed", Timeout, $"announcement {id} completed");
        var counts = await world.AssertExactlyOnceAsync(id, Employees);
        var finals = await DeliveriesAsync(api2, id);
        Assert.Equal(Employees, finals.Count);

        // Every delivery's final state, and the completion, arrived at least once.
        var missing = await Eventually.WaitAsync(() => Task.FromResult(Missing(receiver, id, finals)), m => m.Count == 0, Timeout,
            "every delivery's final state and the completion at the receiver");
        // Nothing is left behind either: the queue and the outbox are empty once the last event went.
        await Eventually.WaitAsync(async () => await world.Db.SortedSetLengthAsync(EventKeys.Due(FaultWorld.EmployerId)) == 0 &&
            await world.Db.StreamLengthAsync(EventKeys.Outbox(id)) == 0, Timeout, "the event queue and the outbox drained");

        var received = receiver.Received.ToList();
        Assert.All(received, e => Assert.True(EventReceiver.Verifies(e, secret), $"signature of {e.Id}"));
        var redelivered = received.GroupBy(e => e.Id).Count(g => g.Count() > 1);
        var types = receiver.Delivered.GroupBy(e => (string)JsonNode.Parse(e.Body)!["type"]!).Select(g => $"{g.Key} {g.Count()}");
        output.WriteLine($"counts {counts}; unknown (in flight at the kill) {finals.Count(d => d.Value == "unknown")}");
        output.WriteLine($"events received {received.Count} POSTs, {received.Select(e => e.Id).Distinct().Count()} distinct ids " +
            $"({string.Join(", ", types)}); redelivered {redelivered} id(s), {received.Count - received.Select(e => e.Id).Distinct().Count()} extra POST(s)");
        Assert.Empty(missing);
        // Only requests in flight at the kill may be unknown.
        Assert.InRange(counts.Unknown, 0, 32);
    }

    private static HttpClient Client(string url)
    {
        var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return client;
    }

    /// <summary>Each delivery's final state as the API reports it, by employee.</summary>
    private static async Task<Dictionary<string, string>> DeliveriesAsync(HttpClient api, string id)
    {
        var items = new List<DeliveryView>();
        string? cursor = null;
        do
        {
            var page = (await api.GetFromJsonAsync<DeliveryPage>($"/api/announcements/{id}/deliveries?limit=500" + (cursor is null ? "" : $"&cursor={cursor}")))!;
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);
        return items.ToDictionary(d => d.EmployeeId, d => d.State);
    }

    /// <summary>What has not arrived (answered 2xx) yet: "employee:state" per delivery whose final-state event is missing,
    /// and the completion.</summary>
    private static List<string> Missing(EventReceiver receiver, string id, Dictionary<string, string> finals)
    {
        var arrived = new HashSet<string>();
        foreach (var e in receiver.Delivered)
        {
            var json = JsonNode.Parse(e.Body)!;
            var data = json["data"]!;
            if ((string?)data["announcementId"] != id) continue;
            arrived.Add((string)json["type"]! == "announcement.completed" ? "completed"
                : $"{(string?)data["employeeId"]}:{(string?)data["state"]}");
        }
        var missing = finals.Select(f => $"{f.Key}:{f.Value}").Where(k => !arrived.Contains(k)).ToList();
        if (!arrived.Contains("completed")) missing.Add("completed");
        return missing;
    }
}
