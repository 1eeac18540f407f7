using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// A work queue on a Redis Stream with one consumer group: an entry is appended durably (AOF) before anyone is
/// told "accepted", read by one consumer of the group, and acknowledged and deleted in one step once its work is
/// done. An entry whose consumer died stays pending in that consumer's list and is taken over with XAUTOCLAIM
/// after <c>claimAfter</c> of silence, so a crash delays work but never loses it.
/// </summary>
/// <remarks>StackExchange.Redis multiplexes one connection and does not support blocking reads (XREADGROUP BLOCK),
/// so consumers are woken by <see cref="Signal"/> from this process and poll as a fallback.</remarks>
public sealed class RedisStreamQueue(IDatabase db, RedisKey key, string group, TimeProvider time)
{
    /// <summary>XACK and XDEL together: an acknowledged entry never lingers, a deleted one is never left pending.</summary>
    private static readonly LuaScript Complete = LuaScripts.CompleteStreamEntry;

    private readonly SemaphoreSlim wake = new(0, 1);
    private volatile bool groupReady;

    public RedisKey Key => key;

    /// <summary>This process's consumer name: unique per process, so a dead process's pending entries are claimable.</summary>
    public string Consumer { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    public async Task<RedisValue> AddAsync(params NameValueEntry[] fields)
    {
        var id = await db.StreamAddAsync(key, fields);
        Signal();
        return id;
    }

    /// <summary>Wakes this process's consumer now instead of at its next poll.</summary>
    public void Signal()
    {
        if (wake.CurrentCount == 0)
        {
            try
            {
                wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another caller woke it first: one wake-up is enough.
            }
        }
    }

    /// <summary>Waits for <see cref="Signal"/> or the poll interval, whichever comes first.</summary>
    public Task WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken) =>
        wake.WaitAsync(pollInterval, cancellationToken);

    /// <summary>New entries for this consumer (they become pending on it until completed).</summary>
    public async Task<StreamEntry[]> ReadAsync(int count)
    {
        await EnsureGroupAsync();
        try
        {
            return await db.StreamReadGroupAsync(key, group, Consumer, StreamPosition.NewMessages, count);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // The stream was deleted (a FLUSHDB, an operator): create the group again on the next read.
            groupReady = false;
            return [];
        }
    }

    /// <summary>Entries pending on any consumer for at least <paramref name="minIdle"/>, now pending on this one.</summary>
    public async Task<StreamEntry[]> ClaimStaleAsync(TimeSpan minIdle, int count)
    {
        await EnsureGroupAsync();
        var result = await db.StreamAutoClaimAsync(key, group, Consumer, (long)minIdle.TotalMilliseconds, "0-0", count);
        return result.ClaimedEntries;
    }

    /// <summary>How many times an entry was handed to a consumer (1 = first read).</summary>
    public async Task<int> DeliveryCountAsync(RedisValue id)
    {
        var pending = await db.StreamPendingMessagesAsync(key, group, 1, RedisValue.Null, id, id);
        return pending.Length == 0 ? 0 : pending[0].DeliveryCount;
    }

    public Task CompleteAsync(RedisValue id) => db.ScriptEvaluateAsync(Complete, new { stream = key, group, id });

    /// <summary>Entries not yet completed, and the age of the oldest (null when there is none).</summary>
    public async Task<(long Length, TimeSpan? OldestAge)> StatsAsync()
    {
        var length = db.StreamLengthAsync(key);
        var oldest = db.StreamRangeAsync(key, "-", "+", 1);
        return (await length, (await oldest) is [var first] ? time.GetUtcNow() - FromId(first.Id) : null);
    }

    /// <summary>An auto-generated entry id is "&lt;unix ms&gt;-&lt;sequence&gt;", stamped by Redis on XADD.</summary>
    public static DateTimeOffset FromId(RedisValue id) =>
        DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(((string)id!).AsSpan(0, ((string)id!).IndexOf('-')), System.Globalization.CultureInfo.InvariantCulture));

    private async Task EnsureGroupAsync()
    {
        if (groupReady) return;
        try
        {
            // From "0", not "$": entries appended before the group existed are work too.
            await db.StreamCreateConsumerGroupAsync(key, group, "0-0", createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
        groupReady = true;
    }
}
