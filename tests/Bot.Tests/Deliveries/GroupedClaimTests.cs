using Bot.Core.Deliveries;
using Bot.Core.Redis;

namespace Bot.Tests.Deliveries;

/// <summary>
/// Claims go to Redis in groups (one claim-delivery.lua call for every claim asked for while the previous call was in
/// flight, with the outcomes asked for meanwhile): within a group and across groups, exactly one claimant of a delivery
/// gets it. On one Redis and on a
/// three-master cluster (a group's keys share the announcement's hash slot).
/// </summary>
public abstract class GroupedClaimTests(ISharedRedis redis)
{
    public sealed class OnRedis(SharedRedis redis) : GroupedClaimTests(redis), IClassFixture<SharedRedis>;

    public sealed class OnCluster(SharedRedisCluster redis) : GroupedClaimTests(redis), IClassFixture<SharedRedisCluster>;

    private readonly DeliveryStore deliveries = new(redis.Connection.GetDatabase());

    [Fact]
    public async Task ADeliveryClaimedTwiceInOneCallGoesToTheFirstClaimOnly()
    {
        var id = $"ann-{Guid.NewGuid():N}";
        var at = DateTimeOffset.UtcNow;
        var first = DeliveryRecord.Claimed("d1#1", at, DeliveryForm.Text);

        var results = await deliveries.ClaimAsync(id, [new("e1", first), new("e2", DeliveryRecord.Claimed("d1#1", at)),
            new("e1", DeliveryRecord.Claimed("d2#1", at)), new("e3", new DeliveryRecord(DeliveryState.Skipped, at, Error: "opted_out"))], TimeSpan.FromMinutes(5));

        Assert.Null(results[0]);
        Assert.Null(results[1]);
        Assert.Equal(first.ToString(), results[2]?.ToString());
        Assert.Null(results[3]);
        Assert.Equal(1, (int)await redis.Connection.GetDatabase().HashGetAsync(RedisKeys.Announcement(id), DeliveryState.Skipped.Counter()!));
    }

    [Fact]
    public async Task ConcurrentClaimantsInGroupsGetEachDeliveryExactlyOnce()
    {
        var id = $"ann-{Guid.NewGuid():N}";
        var group = new GroupCommit<(string Owner, string Employee), DeliveryRecord?>(claims =>
            deliveries.ClaimAsync(id, [.. claims.Select(c => new DeliveryClaim(c.Employee, DeliveryRecord.Claimed(c.Owner, DateTimeOffset.UtcNow)))],
                TimeSpan.FromMinutes(5)));
        var employees = Enumerable.Range(0, 500).Select(i => $"e{i:D3}").ToArray();

        // Three claimants race for every delivery, 1,500 claims at once.
        var claims = employees.SelectMany(e => new[] { "a#1", "b#1", "c#1" }.Select(owner => (owner, e))).ToArray();
        var results = await Task.WhenAll(claims.Select(c => group.AddAsync(c)));

        var winners = claims.Zip(results).Where(p => p.Second is null).Select(p => p.First).ToArray();
        Assert.Equal(employees, winners.Select(w => w.e).Order());
        // Every loser was told who holds it: the winner.
        foreach (var ((owner, employee), record) in claims.Zip(results).Where(p => p.Second is not null))
            Assert.Equal(winners.Single(w => w.e == employee).owner, record!.Reference);
    }

    [Fact]
    public async Task ClaimsAndOutcomesAskedForTogetherGoInTheSameWritesAndEachGetsItsOwnResult()
    {
        var id = $"ann-{Guid.NewGuid():N}";
        var writes = new DeliveryWrites(deliveries, TimeSpan.FromMinutes(5));
        var at = DateTimeOffset.UtcNow;
        var first = Enumerable.Range(0, 200).Select(i => $"e{i:D3}").ToArray();
        var second = Enumerable.Range(200, 200).Select(i => $"e{i:D3}").ToArray();
        Assert.All(await Task.WhenAll(first.Select(e => writes.ClaimAsync(id, new DeliveryClaim(e, DeliveryRecord.Claimed("d1#1", at))))), Assert.Null);

        // Each outcome of the first 200 is recorded while the next 200 are claimed and another pass claims the first again.
        var outcomes = first.Select(e => writes.TransitionAsync(new DeliveryTransition(id, e, new DeliveryRecord(DeliveryState.Sent, at, $"wamid.{e}")))).ToArray();
        var claims = second.Select(e => writes.ClaimAsync(id, new DeliveryClaim(e, DeliveryRecord.Claimed("d1#1", at)))).ToArray();
        var again = first.Select(e => writes.ClaimAsync(id, new DeliveryClaim(e, DeliveryRecord.Claimed("d2#1", at)))).ToArray();

        Assert.All(await Task.WhenAll(outcomes), Assert.True);
        Assert.All(await Task.WhenAll(claims), Assert.Null);
        // Refused, each told what is there: the first pass's claim, or its outcome when that was written first.
        foreach (var (employee, theirs) in first.Zip(await Task.WhenAll(again)))
            Assert.True(theirs is { State: DeliveryState.Claimed, Reference: "d1#1" } || (theirs?.State == DeliveryState.Sent && theirs.Reference == $"wamid.{employee}"),
                $"{employee}: {theirs}");
        Assert.All(await deliveries.GetManyAsync(id, first), record => Assert.Equal(DeliveryState.Sent, record!.State));
        Assert.All(await deliveries.GetManyAsync(id, second), record => Assert.Equal("d1#1", record!.Reference));
        Assert.Equal(200, (int)await redis.Connection.GetDatabase().HashGetAsync(RedisKeys.Announcement(id), DeliveryState.Sent.Counter()!));
    }
}
