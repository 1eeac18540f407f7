using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Announcements;

/// <summary>
/// The schedule: announcements wait in a ZSET scored by due time; a claimed one moves to the in-flight ZSET
/// scored by its lease expiry, so a replica can take over an announcement whose dispatcher died.
/// </summary>
public sealed class AnnouncementQueue(IConnectionMultiplexer redis, TimeProvider time)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>Queues an announcement (never moving one already queued) and clears its pending-creation mark.</summary>
    public async Task ScheduleAsync(string id, DateTimeOffset dueAt)
    {
        await Db.ScriptEvaluateAsync(LuaScripts.ScheduleAnnouncement, [RedisKeys.Due, RedisKeys.PendingCreations], [id, dueAt.ToUnixMs()]);
        // Wake dispatchers now rather than at their next poll; a lost message only costs one poll interval.
        if (dueAt <= time.GetUtcNow().AddSeconds(1)) await Db.PublishAsync(RedisKeys.WakeUp, id);
    }

    /// <summary>Marks an announcement as being created; <see cref="ScheduleAsync"/> clears the mark.</summary>
    public Task MarkCreatingAsync(string id) =>
        Db.SortedSetAddAsync(RedisKeys.PendingCreations, id, time.GetUtcNow().ToUnixMs());

    /// <summary>Up to <paramref name="max"/> announcements whose creation began before <paramref name="before"/> and never got queued.</summary>
    public async Task<string[]> UnfinishedCreationsAsync(DateTimeOffset before, int max) =>
        [.. (await Db.SortedSetRangeByScoreAsync(RedisKeys.PendingCreations, stop: before.ToUnixMs(), take: max)).Select(v => (string)v!)];

    /// <summary>Drops a pending-creation mark made at or before <paramref name="markedBy"/> (a newer one is a replay under way).</summary>
    public Task ForgetCreationAsync(string id, DateTimeOffset markedBy) =>
        Db.ScriptEvaluateAsync(LuaScripts.ForgetCreation, [RedisKeys.PendingCreations], [id, markedBy.ToUnixMs()]);

    /// <summary>
    /// Atomically claims up to <paramref name="max"/> announcements: in-flight ones whose lease expired at or
    /// before <paramref name="takeOverBefore"/>, then due ones.
    /// </summary>
    public async Task<string[]> ClaimAsync(TimeSpan lease, DateTimeOffset takeOverBefore, int max)
    {
        var now = time.GetUtcNow();
        var claimed = await Db.ScriptEvaluateAsync(LuaScripts.ClaimDue, [RedisKeys.Due, RedisKeys.InFlight],
            [now.ToUnixMs(), (now + lease).ToUnixMs(), takeOverBefore.ToUnixMs(), max]);
        return (string[])claimed!;
    }

    /// <summary>Extends a lease while its announcement is being worked on; never re-adds a finished one.</summary>
    public Task RenewAsync(string id, DateTimeOffset until) =>
        Db.SortedSetAddAsync(RedisKeys.InFlight, id, until.ToUnixMs(), SortedSetWhen.Exists);

    /// <summary>Ends the lease now, so another dispatcher can take the announcement over at once.</summary>
    public Task HandBackAsync(string id) => RenewAsync(id, DateTimeOffset.UnixEpoch);

    /// <summary>Takes a claimed announcement out of flight and queues it again for <paramref name="dueAt"/>.</summary>
    public async Task RequeueAsync(string id, DateTimeOffset dueAt)
    {
        await Db.SortedSetAddAsync(RedisKeys.Due, id, dueAt.ToUnixMs());
        await Db.SortedSetRemoveAsync(RedisKeys.InFlight, id);
    }

    public async Task RemoveAsync(string id)
    {
        await Db.SortedSetRemoveAsync(RedisKeys.Due, id);
        await Db.SortedSetRemoveAsync(RedisKeys.InFlight, id);
    }

    /// <summary>When the next queued announcement is due, or null when none waits.</summary>
    public async Task<DateTimeOffset?> NextDueAsync()
    {
        var first = await Db.SortedSetRangeByRankWithScoresAsync(RedisKeys.Due, 0, 0);
        return first.Length == 0 ? null : Clock.FromUnixMs((long)first[0].Score);
    }

    /// <summary>When the earliest in-flight lease ends, or null when nothing is in flight.</summary>
    public async Task<DateTimeOffset?> NextLeaseExpiryAsync()
    {
        var first = await Db.SortedSetRangeByRankWithScoresAsync(RedisKeys.InFlight, 0, 0);
        return first.Length == 0 ? null : Clock.FromUnixMs((long)first[0].Score);
    }
}
