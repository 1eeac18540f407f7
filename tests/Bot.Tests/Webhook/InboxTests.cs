using Bot.WhatsAppClient;
using System.Net;
using System.Net.Http.Json;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Tests.Hosting;
using Bot.Webhook.Webhook;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using WireMock.RequestBuilders;

namespace Bot.Tests.Webhook;

/// <summary>
/// The webhook answers once a POST is in the inbox; workers apply it at least once with idempotent effects, and
/// replies go out through the outbox, exactly one per inbound message. Run on one Redis and on a three-master Redis Cluster.
/// </summary>
public abstract class InboxTests(ISharedRedis redis)
{
    public sealed class OnRedis(SharedRedis redis) : InboxTests(redis), IClassFixture<SharedRedis>;

    public sealed class OnCluster(SharedRedisCluster redis) : InboxTests(redis), IClassFixture<SharedRedisCluster>;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Settings of a host that takes POSTs but works off nothing: what a crash right after the 200 leaves.</summary>
    private static readonly Dictionary<string, string?> NoWorkers = new() { ["Webhook:ProcessInbox"] = "false" };

    [Fact]
    public async Task AThousandMessagesInOnePostWhileWhatsAppTakes300MsGetExactlyOneReplyEach()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(1000);
        scenario.Stub.Server.Given(Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost()).AtPriority(50)
            .RespondWith(WhatsAppStub.AcceptedResponse("+16505550000").WithDelay(TimeSpan.FromMilliseconds(300)));
        var body = Meta.InboundTexts([.. employees.Select(e => (e.Phone, "hi", Meta.NewMessageId()))]);

        var response = await scenario.PostAsync(body, Meta.Sign(body));

        // The answer does not wait for 1,000 replies of 300 ms each (bench/Bot.Bench measures how fast it comes).
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sends = await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends), s => s.Count >= 1000, Timeout, "1,000 replies");
        await scenario.WaitForInboxProcessedAsync();
        Assert.Equal(1000, sends.Count);
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
        Assert.All(sends, s => Assert.Equal(BotConversation.HelpText, s.Text));
        await Eventually.WaitAsync(async () => await scenario.Redis.StreamLengthAsync(RedisKeys.ReplyOutbox) == 0, Timeout, "the outbox drained");
    }

    [Fact]
    public async Task RepliesToOnePersonGoOutInTheOrderOfTheirMessagesEvenWhenWhatsAppIsSlow()
    {
        await using var scenario = new Scenario(redis);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        scenario.Stub.Server.Given(Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost()).AtPriority(50)
            .RespondWith(WhatsAppStub.AcceptedResponse(phone).WithDelay(TimeSpan.FromMilliseconds(300)));

        await scenario.DeliverAsync(Meta.InboundTexts([(phone, "STOP", Meta.NewMessageId()), (phone, "START", Meta.NewMessageId()), (phone, "help", Meta.NewMessageId())]));

        // Each reply leaves only once the one before it to the same person was answered, so WhatsApp sees them in order.
        var replies = await scenario.WaitForSendsToAsync(phone, 3);
        Assert.Equal([BotConversation.StoppedText, BotConversation.StartedText, BotConversation.HelpText], replies.Select(r => r.Text));
        Assert.Equal("active", (await scenario.GetEmployeeAsync(employeeId)).Status);
    }

    [Fact]
    public async Task APostAcceptedByAHostThatDiesBeforeProcessingIsAppliedByAnotherHost()
    {
        await using var scenario = new Scenario(redis, NoWorkers);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        var stop = Meta.InboundText(phone, "STOP");

        var response = await scenario.PostAsync(stop, Meta.Sign(stop));

        // Answered, stored, not yet applied: nothing in this host works off the inbox.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await scenario.Redis.StreamLengthAsync(RedisKeys.WebhookInbox));
        Assert.Equal("active", (await scenario.GetEmployeeAsync(employeeId)).Status);

        await using var survivor = StartHost(scenario);
        await scenario.WaitForInboxProcessedAsync();
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync(employeeId)).Status);
        Assert.Equal([BotConversation.StoppedText], (await scenario.WaitForSendsToAsync(phone, 1)).Select(s => s.Text));
    }

    [Fact]
    public async Task AnEntryLeftPendingByADeadWorkerIsTakenOverAndAppliedOnce()
    {
        await using var scenario = new Scenario(redis, NoWorkers);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        await scenario.DeliverWithoutWaitingAsync(Meta.InboundText(phone, "STOP"));
        // A worker of another replica read it, then was killed: the entry is pending on a consumer that never returns.
        await scenario.Redis.StreamCreateConsumerGroupAsync(RedisKeys.WebhookInbox, WebhookInbox.Group, "0-0");
        Assert.Single(await scenario.Redis.StreamReadGroupAsync(RedisKeys.WebhookInbox, WebhookInbox.Group, "killed-replica", ">", 10));

        await using var survivor = StartHost(scenario, new() { ["Webhook:ClaimAfter"] = "00:00:00.500" });

        await scenario.WaitForInboxProcessedAsync();
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync(employeeId)).Status);
        Assert.Equal([BotConversation.StoppedText], (await scenario.WaitForSendsToAsync(phone, 1)).Select(s => s.Text));
        var pending = await scenario.Redis.StreamPendingAsync(RedisKeys.WebhookInbox, WebhookInbox.Group);
        Assert.Equal(0, pending.PendingMessageCount);
    }

    [Fact]
    public async Task MessagesProcessedAgainAfterACrashBeforeTheyWereMarkedDoneChangeNothingAndReplyOnce()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(2);
        var (stopperId, stopperPhone) = employees[0];
        var (joinerId, _) = employees[1];
        const string newPhone = "+16505559001";
        var issued = await scenario.Api.PostAsync($"/api/employees/{joinerId}/join-code", null);
        var joinCode = (await issued.Content.ReadFromJsonAsync<Meta.JoinCodeView>())!.Code;
        var (stopId, joinId) = (Meta.NewMessageId(), Meta.NewMessageId());
        var body = Meta.InboundTexts([(stopperPhone, "STOP", stopId), (newPhone, $"JOIN {joinCode}", joinId)]);
        await scenario.DeliverAsync(body);
        await scenario.WaitForSendsToAsync(stopperPhone, 1);
        await scenario.WaitForSendsToAsync(newPhone, 1);

        // A worker that stored both effects and queued both replies, then died before marking the messages done;
        // Meta (which got its 200) or the inbox (had it died before completing the entry) delivers them again.
        // One DEL per key: each message's mark has a hash slot of its own.
        await Task.WhenAll(scenario.Redis.KeyDeleteAsync(RedisKeys.WebhookEvent(stopId)), scenario.Redis.KeyDeleteAsync(RedisKeys.WebhookEvent(joinId)));
        await scenario.DeliverAsync(body);
        // A later message's reply marks the point by which any duplicate reply would have been sent.
        await scenario.DeliverAsync(Meta.InboundText(stopperPhone, "help"));
        await scenario.WaitForSendsToAsync(stopperPhone, 2);

        Assert.Equal([BotConversation.StoppedText, BotConversation.HelpText], scenario.Stub.Sends.Where(s => s.To == stopperPhone).Select(s => s.Text));
        // The JOIN found its own use of the code, not "already used".
        Assert.Equal([BotConversation.JoinedText], scenario.Stub.Sends.Where(s => s.To == newPhone).Select(s => s.Text));
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync(stopperId)).Status);
        Assert.Equal(newPhone, (await scenario.GetEmployeeAsync(joinerId)).Phone);
        Assert.StartsWith("sent|", await scenario.AppServices.GetRequiredService<ReplyOutbox>().StateAsync(joinId));
    }

    [Fact]
    public async Task AReplyTakenByASenderThatDiedIsRecordedUnknownAndNeverSentAgain()
    {
        await using var scenario = new Scenario(redis, NoWorkers);
        var outbox = scenario.AppServices.GetRequiredService<ReplyOutbox>();
        const string inFlight = "+16505550101", waiting = "+16505550102";
        Assert.True(await outbox.EnqueueAsync("wamid.in-flight", Sender.Default, inFlight, "sent when its sender died?"));
        Assert.True(await outbox.EnqueueAsync("wamid.waiting", Sender.Default, waiting, "still waiting for a permit"));
        Assert.False(await outbox.EnqueueAsync("wamid.waiting", Sender.Default, waiting, "the same message processed again"));
        // A sender of another replica read both, claimed the first (its request may be out), and was killed.
        await scenario.Redis.StreamCreateConsumerGroupAsync(RedisKeys.ReplyOutbox, ReplyOutbox.Group, "0-0");
        var read = await scenario.Redis.StreamReadGroupAsync(RedisKeys.ReplyOutbox, ReplyOutbox.Group, "killed-replica", ">", 10);
        Assert.Equal(2, read.Length);
        Assert.True(await outbox.TryClaimAsync(ReplyOutbox.Parse(read[0])));

        await using var survivor = StartHost(scenario, new() { ["Webhook:ClaimAfter"] = "00:00:00.500" });

        await Eventually.WaitAsync(async () => await scenario.Redis.StreamLengthAsync(RedisKeys.ReplyOutbox) == 0, Timeout, "the outbox drained");
        Assert.Equal("unknown", await outbox.StateAsync("wamid.in-flight"));
        Assert.StartsWith("sent|", await outbox.StateAsync("wamid.waiting"));
        Assert.Equal(["still waiting for a permit"], (await scenario.Stub.WhenSentAsync(1)).Select(s => s.Text));
        Assert.Equal(0, scenario.Stub.CountTo(inFlight));
    }

    [Fact]
    public async Task AnEntryThatKeepsFailingIsSetAsideAfterMaxAttemptsNotRetriedForever()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Webhook:ClaimAfter"] = "00:00:00.200",
            ["Webhook:MaxAttempts"] = "2",
        });
        // Not a payload a worker can read (a POST like it is refused with 400; this one got in some other way).
        await scenario.Redis.StreamAddAsync(RedisKeys.WebhookInbox, "body", "{not json");
        await scenario.ClientFor(null).GetAsync("/health/live");

        await Eventually.WaitAsync(async () => await scenario.Redis.StreamLengthAsync(WebhookInbox.DeadLetters) == 1, Timeout, "the entry dead-lettered");
        Assert.Equal(0, await scenario.Redis.StreamLengthAsync(RedisKeys.WebhookInbox));
        var dead = Assert.Single(await scenario.Redis.StreamRangeAsync(WebhookInbox.DeadLetters));
        Assert.Equal("{not json", (string?)dead["body"]);
    }

    [Fact]
    public async Task ReadinessFailsWhileTheOldestUnprocessedPostIsOlderThanTheThreshold()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>(NoWorkers) { ["Webhook:UnhealthyAfter"] = "00:00:01" });
        using var client = scenario.ClientFor(null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        await scenario.DeliverWithoutWaitingAsync(Meta.InboundText("+16505550199", "hello"));

        await Eventually.WaitAsync(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
            Timeout, "readiness to fail on the stale inbox");
        await using var worker = StartHost(scenario);
        await scenario.WaitForInboxProcessedAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    private static WebhookHost StartHost(Scenario scenario, Dictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(scenario.Settings) { ["Webhook:ProcessInbox"] = "true" };
        foreach (var (key, value) in overrides ?? []) settings[key] = value;
        var host = new WebhookHost(settings);
        host.CreateClient().Dispose(); // starts it
        return host;
    }
}
