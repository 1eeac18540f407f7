using Bot.Core;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// The live dispatcher replicas, so each can work out its share of the sender locks: a ZSET on the main Redis of
/// replica names scored by when their heartbeat lapses. A replica that dies drops out when its last heartbeat lapses,
/// without anyone cleaning up after it. Scores come from each replica's own clock: skew between machines only
/// shifts when a dead replica stops being counted.
/// </summary>
public sealed class DispatcherReplicas(IDatabase db, TimeProvider time)
{
    /// <summary>Marks <paramref name="replica"/> live for <paramref name="ttl"/>; returns how many replicas are live now (itself included).</summary>
    public async Task<int> BeatAsync(string replica, TimeSpan ttl)
    {
        var now = time.GetUtcNow();
        var batch = db.CreateBatch();
        var beat = batch.SortedSetAddAsync(RedisKeys.Dispatchers, replica, (now + ttl).ToUnixMs());
        var lapsed = batch.SortedSetRemoveRangeByScoreAsync(RedisKeys.Dispatchers, double.NegativeInfinity, now.ToUnixMs());
        var live = batch.SortedSetLengthAsync(RedisKeys.Dispatchers);
        batch.Execute();
        await Task.WhenAll(beat, lapsed, live);
        return (int)Math.Max(1, live.Result);
    }

    /// <summary>A replica that stops says so, so the others take its share at once rather than when its heartbeat lapses.</summary>
    public Task LeaveAsync(string replica) => db.SortedSetRemoveAsync(RedisKeys.Dispatchers, replica);
}
