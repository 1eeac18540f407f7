using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Events;
using Bot.Core.Redis;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace Bot.Tests.Events;

/// <summary>
/// The state scripts write an event into the announcement's outbox in the same step as the change, and only while the
/// announcement's employer has an endpoint.
/// </summary>
public sealed class OutboxTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private readonly IDatabase db = redis.Connection.GetDatabase().WithKeyPrefix(SharedRedis.NewKeyPrefix());

    private AnnouncementStore Announcements => new(db, new AnnouncementQueues(db, TimeProvider.System), TimeProvider.System);

    private async Task<string> CreateAsync(string employerId, params string[] employees)
    {
        var (_, id) = await Announcements.CreateAsync(
            new NewAnnouncement(employerId, "Fire drill at 3", null, null, employees, Acknowledgement: new AcknowledgementPolicy(null, 0)), null);
        return id;
    }

    private async Task<StreamEntry[]> OutboxAsync(string announcementId) => await db.StreamRangeAsync(EventKeys.Outbox(announcementId));

    private static EventEndpoint AnEndpoint => new("https://hooks.example.com/in", [], "protected");

    [Fact]
    public async Task AnEmployerWithoutAnEndpointGetsNoOutboxAndNoEventFields()
    {
        var id = await CreateAsync("quiet", "e1");
        var deliveries = new DeliveryStore(db);
        var now = DateTimeOffset.UtcNow;
        await db.StringSetAsync(RedisKeys.Delivery(id, "e1"), DeliveryRecord.Claimed("d#1", now).ToString());

        Assert.True(await deliveries.TransitionAsync(id, "e1", new DeliveryRecord(DeliveryState.Sent, now, "wamid.1")));
        Assert.True(await Announcements.Lifecycle.StartAsync(id) is AnnouncementStatus.Scheduled);
        Assert.True(await Announcements.Lifecycle.CompleteAsync(id));

        Assert.False(await db.KeyExistsAsync(EventKeys.Outbox(id)));
        Assert.False(await db.HashExistsAsync(RedisKeys.Announcement(id), "eventSeq"));
        Assert.False(await db.HashExistsAsync(RedisKeys.Announcement(id), "events"));
    }

    [Fact]
    public async Task EachChangeIsOneEventWithAStableUniqueIdAndItsFields()
    {
        var endpoints = new EndpointStore(db, TimeProvider.System);
        await endpoints.SaveAsync("acme", AnEndpoint);
        var id = await CreateAsync("acme", "e1", "e2");
        var deliveries = new DeliveryStore(db);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        await db.StringSetAsync(RedisKeys.Delivery(id, "e1"), DeliveryRecord.Claimed("d#1", t0).ToString());
        await db.StringSetAsync(RedisKeys.Delivery(id, "e2"), DeliveryRecord.Claimed("d#1", t0).ToString());

        await Announcements.Lifecycle.StartAsync(id);
        await deliveries.TransitionManyAsync([
            new(id, "e1", new DeliveryRecord(DeliveryState.Sent, t0.AddSeconds(1), "wamid.1")),
            new(id, "e2", new DeliveryRecord(DeliveryState.Failed, t0.AddSeconds(1), Error: "131026")),
        ]);
        await deliveries.TransitionAsync(id, "e1", new DeliveryRecord(DeliveryState.Delivered, t0.AddSeconds(2), "wamid.1"));
        await deliveries.TransitionAsync(id, "e1", new DeliveryRecord(DeliveryState.Read, t0.AddSeconds(3), "wamid.1"));
        // A late, repeated status moves nothing and so writes nothing.
        await deliveries.TransitionAsync(id, "e1", new DeliveryRecord(DeliveryState.Delivered, t0.AddSeconds(4), "wamid.1"));
        var acks = new AcknowledgementStore(db, deliveries);
        Assert.Equal(TapOutcome.Recorded, await acks.RecordTapAsync("acme", id, "e1", t0.AddSeconds(5)));
        Assert.Equal(TapOutcome.AlreadyAcknowledged, await acks.RecordTapAsync("acme", id, "e1", t0.AddSeconds(6)));
        Assert.True(await Announcements.Lifecycle.CompleteAsync(id));

        var entries = await OutboxAsync(id);
        var events = entries.Select(e => e.Values.ToDictionary(v => (string)v.Name!, v => (string)v.Value!)).ToList();
        Assert.Equal(["delivery.sent", "delivery.failed", "delivery.delivered", "delivery.read", "delivery.acknowledged", "announcement.completed"],
            events.Select(e => e["type"]));
        Assert.Equal(Enumerable.Range(1, 6).Select(n => $"evt_{id}_{n}"), events.Select(e => e["id"]));
        Assert.All(events, e => Assert.Equal(id, e["announcementId"]));
        Assert.Equal(["e1", "e2", "e1", "e1", "e1", ""], events.Select(e => e["employeeId"]));
        Assert.Equal(["wamid.1", "", "wamid.1", "wamid.1", "", ""], events.Select(e => e["messageId"]));
        Assert.Equal(["", "131026", "", "", "", ""], events.Select(e => e["error"]));
        Assert.Equal(t0.AddSeconds(3).ToUnixTimeMilliseconds().ToString(), events[3]["at"]);
        Assert.Equal(t0.AddSeconds(5).ToUnixTimeMilliseconds().ToString(), events[4]["at"]);
    }

    [Fact]
    public async Task ADeliveryFailedWithoutASendIsAnEventAndAPlainClaimIsNot()
    {
        await new EndpointStore(db, TimeProvider.System).SaveAsync("umbrella", AnEndpoint);
        var id = await CreateAsync("umbrella", "e1", "e2", "e3");
        var deliveries = new DeliveryStore(db);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

        await deliveries.TryClaimAsync(id, "e1", DeliveryRecord.Claimed("d#1", at), TimeSpan.FromMinutes(5));
        await deliveries.ClaimAsync(id, [new("e2", new DeliveryRecord(DeliveryState.Failed, at, Error: "expired")),
            new("e3", new DeliveryRecord(DeliveryState.Skipped, at))], TimeSpan.FromMinutes(5));

        var failed = Assert.Single(await OutboxAsync(id));
        Assert.Equal("delivery.failed", (string)failed["type"]!);
        Assert.Equal("e2", (string)failed["employeeId"]!);
        Assert.Equal("expired", (string)failed["error"]!);
        Assert.Equal(at.ToUnixTimeMilliseconds().ToString(), (string)failed["at"]!);
    }

    [Fact]
    public async Task RegisteringFlagsTheEmployersExistingAnnouncementsOnlyAndDeletingStopsTheEvents()
    {
        var mine = await CreateAsync("globex", "e1");
        var theirs = await CreateAsync("initech", "e1");
        var endpoints = new EndpointStore(db, TimeProvider.System);

        await endpoints.SaveAsync("globex", AnEndpoint);
        await Announcements.Lifecycle.StartAsync(mine);
        await Announcements.Lifecycle.StartAsync(theirs);
        await Announcements.Lifecycle.PauseAsync(mine, "sender token", DateTimeOffset.UtcNow.AddMinutes(5));
        await Announcements.Lifecycle.PauseAsync(theirs, "sender token", DateTimeOffset.UtcNow.AddMinutes(5));

        var paused = Assert.Single(await OutboxAsync(mine));
        Assert.Equal("announcement.paused", (string)paused["type"]!);
        Assert.Equal("sender token", (string)paused["error"]!);
        Assert.False(await db.KeyExistsAsync(EventKeys.Outbox(theirs)));
        Assert.Equal([mine], await endpoints.OutboxesAsync("globex", DateTimeOffset.UtcNow.AddDays(-10)));

        Assert.True(await endpoints.DeleteAsync("globex"));
        await Announcements.Lifecycle.ExpireAsync(mine, AnnouncementStatus.Paused);
        Assert.Single(await OutboxAsync(mine));
    }

    [Fact]
    public async Task AnOutboxWatchedLongEnoughIsRetiredAndItsAnnouncementWritesNoMore()
    {
        var endpoints = new EndpointStore(db, TimeProvider.System);
        await endpoints.SaveAsync("hooli", AnEndpoint);
        var id = await CreateAsync("hooli", "e1");
        await Announcements.Lifecycle.StartAsync(id);
        await Announcements.Lifecycle.PauseAsync(id, "sender token", DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Single(await OutboxAsync(id));

        Assert.Empty(await endpoints.OutboxesAsync("hooli", DateTimeOffset.UtcNow.AddSeconds(1)));

        Assert.False(await db.KeyExistsAsync(EventKeys.Outbox(id)));
        await Announcements.Lifecycle.ExpireAsync(id, AnnouncementStatus.Paused);
        Assert.False(await db.KeyExistsAsync(EventKeys.Outbox(id)));
    }
}
