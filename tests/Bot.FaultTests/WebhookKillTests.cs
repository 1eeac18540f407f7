using System.Net;
using Bot.Core.Redis;
using WireMock.RequestBuilders;
using Xunit.Abstractions;

namespace Bot.FaultTests;

/// <summary>The built Bot.Webhook as a real process: killed right after it answered Meta, and in Production.</summary>
public sealed class WebhookKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AHostKilledRightAfterThe200LosesNoEventAndNoEmployeeGetsTwoReplies()
    {
        await using var world = await FaultWorld.StartAsync();
        var phones = await world.SeedEmployeesAsync(1000);
        world.Stub.Server.Given(Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost()).AtPriority(50)
            .RespondWith(WhatsAppStub.AcceptedResponse("+16505550000").WithDelay(TimeSpan.FromMilliseconds(300)));
        var settings = WebhookProcess.Settings(world);
        var messageIds = phones.Select((_, i) => $"wamid.fault{i:D5}").ToList();
        var body = WebhookProcess.InboundTexts(phones.Zip(messageIds));

        await using var first = HostProcess.StartWebhook(Ports.Free(), settings);
        var url = await WebhookProcess.WaitUntilLiveAsync(first);
        using var http = new HttpClient();
        var answer = await http.SendAsync(WebhookProcess.Signed(url, body));
        first.Kill();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await using var second = HostProcess.StartWebhook(Ports.Free(), settings);
        await WebhookProcess.WaitUntilLiveAsync(second);
        // Everything the dead host left — the POST itself, or entries and replies pending on it — is taken over.
        await Eventually.WaitAsync(async () => await world.Db.StreamLengthAsync(RedisKeys.WebhookInbox) == 0 &&
            await world.Db.StreamLengthAsync(RedisKeys.ReplyOutbox) == 0, TimeSpan.FromSeconds(90), "inbox and outbox worked off");

        var done = await Task.WhenAll(messageIds.Select(id => world.Db.KeyExistsAsync(RedisKeys.WebhookEvent(id))));
        var replies = await Task.WhenAll(messageIds.Select(async id => (string?)await world.Db.StringGetAsync(RedisKeys.Reply(id))));
        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Count),
            n => n >= replies.Count(r => r?.StartsWith("sent|") == true), TimeSpan.FromSeconds(10), "the stub's log settled");
        var perPhone = world.Stub.Sends.GroupBy(s => s.To).ToDictionary(g => g.Key, g => g.Count());
        var unknown = replies.Count(r => r == "unknown");
        output.WriteLine($"replies sent {replies.Count(r => r?.StartsWith("sent|") == true)}, unknown {unknown} (in flight at the kill), " +
            $"received by WhatsApp {perPhone.Count}");

        Assert.All(done, Assert.True);
        Assert.All(replies, r => Assert.True(r is "unknown" || r?.StartsWith("sent|") == true, $"reply record '{r}'"));
        Assert.All(perPhone.Values, n => Assert.Equal(1, n));
        // Only a reply whose request may have left when the host died can be missing; never more than were in flight.
        Assert.InRange(1000 - perPhone.Count, 0, unknown);
    }

    [Fact]
    public async Task TheBuiltHostServesThePortalInProduction()
    {
        await using var world = await FaultWorld.StartAsync();
        await using var host = HostProcess.StartWebhook(Ports.Free(), WebhookProcess.Settings(world));
        var url = await WebhookProcess.WaitUntilLiveAsync(host);

        using var http = new HttpClient();
        var page = await http.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>Announcements — employer portal</title>", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "portal/app.js")).StatusCode);
    }
}
