using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Xunit.Abstractions;

namespace Bot.FaultTests;

public sealed class WhatsAppFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AMisbehavingWhatsAppNeverGetsAMessageSentTwiceAndEveryDeliveryEndsInAState()
    {
        await using var world = await FaultWorld.StartAsync();
        var phones = await world.SeedEmployeesAsync(2000);
        var messages = Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost();
        // Each fault mapping applies to that share of the requests that reach it; the rest fall through to "accepted".
        world.Stub.Server.Given(messages).AtPriority(10).WithProbability(0.10)
            .RespondWith(WhatsAppStub.GraphError(429, 130429, "Rate limit hit").WithHeader("Retry-After", "1"));
        world.Stub.Server.Given(messages).AtPriority(11).WithProbability(0.05).RespondWith(Response.Create().WithStatusCode(500));
        world.Stub.Server.Given(messages).AtPriority(12).WithProbability(0.05)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{}").WithDelay(TimeSpan.FromSeconds(2.5)));
        world.Stub.Server.Given(messages).AtPriority(13).WithProbability(0.02).RespondWith(Response.Create().WithFault(FaultType.EMPTY_RESPONSE));
        string[] undeliverable = [phones[10], phones[20], phones[30]];
        string[] outsideWindow = [phones[40], phones[50]];
        foreach (var phone in undeliverable) world.Stub.ForRecipient(phone).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        foreach (var phone in outsideWindow) world.Stub.ForRecipient(phone).RespondWith(WhatsAppStub.GraphError(400, 131047, "Re-engagement message"));
        world.StartDispatchers(2, new Dictionary<string, string> { ["WhatsApp:Timeout"] = "00:00:01", ["Dispatcher:MaxSendAttempts"] = "8" });

        var id = await world.AnnounceAsync("Faults test");
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(2));
        // WireMock logs a delayed request only once its answer is written, after the client gave up on it.
        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Select(s => s.To).Distinct().Count()), n => n == 2000,
            TimeSpan.FromSeconds(10), "a request to every phone in WireMock's log");

        var counts = await world.AssertExactlyOnceAsync(id, 2000);
        var throttled = world.Stub.Server.LogEntries.Count(e => e.ResponseMessage.StatusCode is 429 or "429");
        output.WriteLine($"counts {counts}; {world.Stub.Sends.Count} requests, {throttled} answered 429");
        Assert.True(throttled > 0, "no 429 was answered: the test did not test retries");
        // Permanent errors end failed, with their code, after one request each.
        Assert.All([.. undeliverable, .. outsideWindow], p => Assert.Equal(1, world.Stub.CountTo(p)));
        Assert.Equal(5, counts.Failed);
        // 429s are retried until accepted; 500s, timeouts and cut connections are unknown, never re-sent.
        Assert.True(counts.Unknown > 0, "no unknown outcome: the 500/timeout/reset faults did not bite");
    }

    [Fact]
    public async Task StopTheLineErrorPausesDispatchOnceAndTheAnnouncementResumesAfterwards()
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(300);
        var tokenExpired = Guid.NewGuid();
        world.Stub.Server.Given(Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost()).WithGuid(tokenExpired).AtPriority(1)
            .RespondWith(WhatsAppStub.GraphError(401, 190, "Error validating access token: Session has expired"));
        var dispatcher = world.StartDispatcher(new Dictionary<string, string> { ["Dispatcher:StopTheLinePause"] = "00:00:03" });

        var id = await world.AnnounceAsync("Stop the line test");
        await Eventually.WaitAsync(() => Task.FromResult(dispatcher.CountLines("is paused for")), n => n > 0, TimeSpan.FromSeconds(10), "the pause logged");
        var refused = world.Stub.Sends.Count;
        // Shown as paused with the error that stopped the line; nothing counted against any employee.
        var (status, counts) = await Eventually.WaitAsync(() => world.ReadAsync(id), r => r.Status == "paused", TimeSpan.FromSeconds(10), "the announcement paused");
        Assert.Equal(0, counts.Settled);
        // The token is renewed: the stub accepts again, and the announcement resumes after the pause.
        world.Stub.Server.DeleteMapping(tokenExpired);
        await world.WaitForCompletedAsync(id, TimeSpan.FromSeconds(30));

        counts = await world.AssertExactlyOnceAsync(id, 300);
        output.WriteLine($"{refused} requests refused with 190 before the pause; counts {counts}");
        Assert.Equal(300, counts.Sent);
        Assert.Equal(1, dispatcher.CountLines("is paused for"));
        Assert.InRange(refused, 1, 32); // only the sends already under way when the first 190 came back
    }

    [Fact]
    public async Task RateCapHoldsInEveryOneSecondWindow()
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(500);
        // What earlier tests left behind is collected now, not in a pause while WireMock timestamps requests.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        world.StartDispatchers(1, new Dictionary<string, string> { ["WhatsApp:MessagesPerSecond"] = "50" });

        var id = await world.AnnounceAsync("Rate test");
        await world.WaitForCompletedAsync(id, TimeSpan.FromSeconds(30));

        await world.AssertExactlyOnceAsync(id, 500);
        var times = world.Stub.Server.LogEntries.Select(e => e.RequestMessage.DateTime).Order().ToArray();
        var busiest = BusiestSecond(times);
        var duration = times[^1] - times[0];
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToArray();
        output.WriteLine($"gaps: min {gaps.Min():F1} ms, max {gaps.Max():F1} ms; under 10 ms: {gaps.Count(g => g < 10)}");
        output.WriteLine($"busiest one-second window: {busiest} sends; 500 sends took {duration.TotalSeconds:F2} s (at the pace, 48/s: 10.4 s)");
        // The cap, in every one-second window (so never faster overall). How long the 500 took is a figure, printed
        // above: a busy machine only makes it slower.
        Assert.InRange(busiest, 1, 51);
    }

    [Fact]
    public async Task RateCapHoldsForEverythingTheNumberSendsFromThreeDispatchersAndTheWebhookHost()
    {
        await using var world = await FaultWorld.StartAsync();
        var phones = await world.SeedEmployeesAsync(300);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        // The stub is the measuring instrument: its first request pays for JIT, so it is not the one timed.
        using (var warmUp = new HttpClient()) await warmUp.PostAsync(world.Stub.Url + WhatsAppStub.MessagesPath, new StringContent("{}"));
        world.Stub.Server.ResetLogEntries();
        var capped = new Dictionary<string, string> { ["WhatsApp:MessagesPerSecond"] = "50", ["Dispatcher:UseLock"] = "false" };
        await using var webhook = HostProcess.StartWebhook(Ports.Free(), WebhookProcess.Settings(world, capped));
        var url = await WebhookProcess.WaitUntilLiveAsync(webhook);
        // Three replicas fan the same announcement out at once (no lock): only the shared limiter keeps them apart.
        var dispatchers = world.StartDispatchers(3, capped);

        var id = await world.AnnounceAsync("Rate test");
        // Meanwhile 100 employees write to the bot, and each gets a reply from the same number.
        using var http = new HttpClient();
        var inbound = phones.Take(100).Select((p, i) => (p, $"wamid.rate{i:D3}")).ToList();
        Assert.True((await http.SendAsync(WebhookProcess.Signed(url, WebhookProcess.InboundTexts(inbound)))).IsSuccessStatusCode);
        await world.WaitForCompletedAsync(id, TimeSpan.FromSeconds(60));
        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Server.LogEntries.Count()), n => n >= 400, TimeSpan.FromSeconds(30), "300 sends and 100 replies");

        await world.AssertExactlyOnceAsync(id, 300);
        var times = world.Stub.Server.LogEntries.Select(e => e.RequestMessage.DateTime).Order().ToArray();
        var busiest = BusiestSecond(times);
        var perTenth = times.GroupBy(t => (t - times[0]).Ticks / TimeSpan.TicksPerMillisecond / 100).Select(g => g.Count());
        output.WriteLine($"sends per 100 ms: {string.Join(' ', perTenth)}");
        output.WriteLine($"{times.Length} requests from {dispatchers.Length} dispatchers and the webhook host; busiest one-second window: {busiest}; " +
            $"all took {(times[^1] - times[0]).TotalSeconds:F2} s (at the pace, 48/s: 8.3 s)");
        Assert.Equal(400, times.Length);
        Assert.InRange(busiest, 1, 51);
    }

    /// <summary>The most requests in any one-second window (sliding, from each request on).</summary>
    private static int BusiestSecond(DateTime[] times)
    {
        var busiest = 0;
        for (int first = 0, last = 0; last < times.Length; last++)
        {
            while (times[last] - times[first] >= TimeSpan.FromSeconds(1)) first++;
            busiest = Math.Max(busiest, last - first + 1);
        }
        return busiest;
    }
}
