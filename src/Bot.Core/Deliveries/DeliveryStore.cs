using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Deliveries;

/// <summary>What a dispatcher asks for when it claims one delivery.</summary>
/// <param name="Language">The template variant's language the delivery is sent as; null for none.</param>
public readonly record struct DeliveryClaim(string EmployeeId, DeliveryRecord Record, string? Language = null);

/// <summary>One requested move of a delivery; <paramref name="Expected"/> null = from whatever it is now.</summary>
public readonly record struct DeliveryTransition(string AnnouncementId, string EmployeeId, DeliveryRecord Next, DeliveryRecord? Expected = null);

public sealed class DeliveryStore(IDatabase db)
{
    /// <summary>SET NX of one delivery key: null when this caller created it (and alone may send), else the record there.</summary>
    public async Task<DeliveryRecord?> TryClaimAsync(string announcementId, string employeeId, DeliveryRecord claim, TimeSpan retention, string? language = null) =>
        (await ClaimAsync(announcementId, [new DeliveryClaim(employeeId, claim, language)], retention))[0];

    /// <summary>
    /// Many SET NX claims of one announcement in one script call (claim-delivery.lua): per claim, null when this caller
    /// created its key, else the record there.
    /// </summary>
    public async Task<DeliveryRecord?[]> ClaimAsync(string announcementId, IReadOnlyList<DeliveryClaim> claims, TimeSpan retention)
    {
        if (claims.Count == 0) return [];
        var (records, _) = await WriteAsync([.. claims.Select(c => (announcementId, c))], [], retention);
        return records;
    }

    /// <summary>
    /// Claims and outcomes together, in one pipelined round trip (a fan-out's group commit: what its sends ask for while
    /// the previous write is in flight). Claims go in one claim-delivery.lua call per announcement, outcomes as in
    /// <see cref="TransitionManyAsync"/>; with AOF <c>always</c> they share one fsync. Per claim null when this caller
    /// created its key, else the record there; per transition whether it moved.
    /// </summary>
    public async Task<(DeliveryRecord?[] Claims, bool[] Moved)> WriteAsync(
        IReadOnlyList<(string AnnouncementId, DeliveryClaim Claim)> claims, IReadOnlyList<DeliveryTransition> transitions, TimeSpan retention)
    {
        var batch = db.CreateBatch();
        var claimCalls = new List<(int[] Indexes, Task<RedisResult> Reply)>();
        foreach (var group in Enumerable.Range(0, claims.Count).GroupBy(i => claims[i].AnnouncementId))
        {
            var indexes = group.ToArray();
            var keys = new RedisKey[indexes.Length + 2];
            var values = new RedisValue[indexes.Length * 3 + 1];
            (keys[0], keys[1], values[0]) = (RedisKeys.Announcement(group.Key), RedisKeys.Languages(group.Key), (long)retention.TotalSeconds);
            for (var j = 0; j < indexes.Length; j++)
            {
                var claim = claims[indexes[j]].Claim;
                keys[j + 2] = RedisKeys.Delivery(group.Key, claim.EmployeeId);
                (values[j * 3 + 1], values[j * 3 + 2], values[j * 3 + 3]) = (claim.Record.ToString(), claim.Record.State.Counter() ?? "", claim.Language ?? "");
            }
            claimCalls.Add((indexes, batch.ScriptEvaluateAsync(LuaScripts.ClaimDelivery, keys, values)));
        }
        var moves = QueueTransitions(batch, transitions);
        batch.Execute();
        var records = new DeliveryRecord?[claims.Count];
        foreach (var (indexes, reply) in claimCalls)
        {
            var results = (RedisResult[])(await reply)!;
            for (var j = 0; j < indexes.Length; j++) records[indexes[j]] = ToRecord(results[j]);
        }
        return (records, await MovedAsync(moves, transitions.Count));
    }

    private static DeliveryRecord? ToRecord(RedisResult result) => result.IsNull ? null : DeliveryRecord.Parse((string)result!);

    /// <summary>Whether the delivery still holds exactly this claim (nobody settled or took it meanwhile).</summary>
    public async Task<bool> IsHeldAsync(string announcementId, string employeeId, DeliveryRecord claim) =>
        (await ReadAsync(announcementId, [employeeId]))[0] == claim.ToString();

    /// <summary>Moves a delivery forward (never backwards); false when the move is not allowed or
    /// <paramref name="expected"/> no longer holds.</summary>
    public async Task<bool> TransitionAsync(string announcementId, string employeeId, DeliveryRecord next, DeliveryRecord? expected = null) =>
        (await TransitionManyAsync([new DeliveryTransition(announcementId, employeeId, next, expected)]))[0];

    /// <summary>
    /// Applies many transitions (a webhook POST carries up to 1,000 statuses; a fan-out records its outcomes in
    /// groups): one transition-delivery.lua call per announcement and chunk, pipelined. Each one moves forward or not
    /// at all, like <see cref="TransitionAsync"/>; the announcement's counters move once per call, not per delivery.
    /// </summary>
    public async Task<bool[]> TransitionManyAsync(IReadOnlyList<DeliveryTransition> transitions)
    {
        var batch = db.CreateBatch();
        var calls = QueueTransitions(batch, transitions);
        batch.Execute();
        return await MovedAsync(calls, transitions.Count);
    }

    private static List<(int[] Indexes, Task<RedisResult> Reply)> QueueTransitions(IBatch batch, IReadOnlyList<DeliveryTransition> transitions)
    {
        var calls = new List<(int[] Indexes, Task<RedisResult> Reply)>();
        foreach (var group in Enumerable.Range(0, transitions.Count).GroupBy(i => transitions[i].AnnouncementId))
        {
            // Bounded so one call never holds Redis for long.
            foreach (var chunk in group.Chunk(MaxPerCall))
            {
                var keys = new RedisKey[chunk.Length + 1];
                var values = new RedisValue[chunk.Length * 2];
                keys[0] = RedisKeys.Announcement(group.Key);
                for (var j = 0; j < chunk.Length; j++)
                {
                    var t = transitions[chunk[j]];
                    keys[j + 1] = RedisKeys.Delivery(t.AnnouncementId, t.EmployeeId);
                    values[2 * j] = t.Next.ToString();
                    values[2 * j + 1] = t.Expected?.ToString() ?? "";
                }
                calls.Add((chunk, batch.ScriptEvaluateAsync(LuaScripts.TransitionDelivery, keys, values)));
            }
        }
        return calls;
    }

    private static async Task<bool[]> MovedAsync(List<(int[] Indexes, Task<RedisResult> Reply)> calls, int count)
    {
        var results = new bool[count];
        foreach (var (indexes, reply) in calls)
        {
            var moved = (long[])(await reply)!;
            for (var j = 0; j < indexes.Length; j++) results[indexes[j]] = moved[j] == 1;
        }
        return results;
    }

    private const int MaxPerCall = 256;

    /// <summary>Deletes this caller's own claim, for a send known not to have gone out.</summary>
    public async Task<bool> ReleaseAsync(string announcementId, string employeeId, DeliveryRecord claim) =>
        (long)await db.ScriptEvaluateAsync(LuaScripts.ReleaseDelivery,
            [RedisKeys.Delivery(announcementId, employeeId)], [claim.ToString()]) == 1;

    /// <summary>
    /// Replaces the record only if it is exactly <paramref name="expected"/> (see swap-delivery.lua: the 131047 template
    /// re-send and its give-back, the one move outside the state machine); true when swapped.
    /// </summary>
    public async Task<bool> SwapAsync(string announcementId, string employeeId, DeliveryRecord expected, DeliveryRecord next) =>
        (long)await db.ScriptEvaluateAsync(LuaScripts.SwapDelivery,
            [RedisKeys.Delivery(announcementId, employeeId), RedisKeys.Announcement(announcementId)],
            [expected.ToString(), next.ToString()]) == 1;

    /// <summary>
    /// Puts deliveries back to pending for a retry on request (retry-deliveries.lua): each only if its record is still
    /// exactly the one given, and only while the announcement is not scheduled, dispatching or cancelled. Returns how many
    /// went back, or null when the announcement's status refused them all.
    /// </summary>
    /// <param name="retriedAt">The announcement's last retry as the caller saw it (unix ms, null for none): a retry since refuses.</param>
    public async Task<int?> RetryAsync(string announcementId, long? retriedAt, IReadOnlyList<(string EmployeeId, DeliveryRecord Expected)> chosen)
    {
        var keys = new RedisKey[chosen.Count + 2];
        var values = new RedisValue[chosen.Count * 2 + 1];
        values[0] = retriedAt?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        keys[0] = RedisKeys.Announcement(announcementId);
        keys[1] = RedisKeys.Attempts(announcementId);
        for (var i = 0; i < chosen.Count; i++)
        {
            keys[i + 2] = RedisKeys.Delivery(announcementId, chosen[i].EmployeeId);
            values[2 * i + 1] = chosen[i].Expected.ToString();
            values[2 * i + 2] = chosen[i].Expected.State.Counter() ?? throw new ArgumentException("A claim is no outcome to retry.", nameof(chosen));
        }
        var retried = (long)await db.ScriptEvaluateAsync(LuaScripts.RetryDeliveries, keys, values);
        return retried < 0 ? null : (int)retried;
    }

    /// <summary>Attempts of each delivery: 1 for a record never retried, the count kept by retries, 0 for none yet.</summary>
    public async Task<int[]> AttemptsAsync(string announcementId, IReadOnlyList<string> employeeIds, IReadOnlyList<DeliveryRecord?> records)
    {
        if (employeeIds.Count == 0) return [];
        var counts = await db.HashGetAsync(RedisKeys.Attempts(announcementId), [.. employeeIds.Select(e => (RedisValue)e)]);
        return [.. counts.Select((c, i) => c.IsNull ? (records[i] is null ? 0 : 1) : (int)c)];
    }

    /// <summary>The template variant's language each delivery was sent as; null where it went as text or not yet.</summary>
    public async Task<string?[]> LanguagesAsync(string announcementId, IReadOnlyList<string> employeeIds) =>
        employeeIds.Count == 0
            ? []
            : [.. (await db.HashGetAsync(RedisKeys.Languages(announcementId), [.. employeeIds.Select(e => (RedisValue)e)])).Select(v => (string?)v)];

    /// <summary>Records the language of a template re-send (claimed by swap, not by <see cref="TryClaimAsync"/>).</summary>
    public Task SetLanguageAsync(string announcementId, string employeeId, string language) =>
        db.HashSetAsync(RedisKeys.Languages(announcementId), employeeId, language);

    public async Task<DeliveryRecord?> GetAsync(string announcementId, string employeeId) =>
        (await GetManyAsync(announcementId, [employeeId]))[0];

    /// <summary>The records of many deliveries of one announcement in one call (they share a hash slot), gate key or folded.</summary>
    public async Task<DeliveryRecord?[]> GetManyAsync(string announcementId, IReadOnlyList<string> employeeIds)
    {
        var values = await ReadAsync(announcementId, employeeIds);
        return [.. values.Select(v => v.IsNull ? null : DeliveryRecord.Parse(v!))];
    }

    private async Task<RedisValue[]> ReadAsync(string announcementId, IReadOnlyList<string> employeeIds)
    {
        if (employeeIds.Count == 0) return [];
        var result = await db.ScriptEvaluateAsync(LuaScripts.GetDeliveries, DeliveryKeys(announcementId, employeeIds));
        return [.. ((RedisResult[])result!).Select(r => r.IsNull ? RedisValue.Null : (RedisValue)(string)r!)];
    }

    /// <summary>
    /// Folds the records still in gate keys (most moved when they settled) into the announcement's buckets
    /// (fold-deliveries.lua), for an announcement that is final: nothing dispatches it again, and statuses, re-sends,
    /// the API and the export read and move records in either form. About 64 records a bucket, so each stays a
    /// listpack (Redis's default hash-max-listpack-entries is 128). Safe to run again (after a crash half-way): a
    /// folded record has no gate key.
    /// </summary>
    /// <param name="targets">The announcement's targets, batch by batch.</param>
    public async Task<long> FoldAsync(string announcementId, long targeted, IAsyncEnumerable<string[]> targets)
    {
        var buckets = await EnsureBucketsAsync(announcementId, targeted);
        // Whole buckets per call, so each bucket gets one HSET (and one PEXPIRE) rather than one per record.
        var byBucket = new List<string>[buckets];
        await foreach (var batch in targets)
        {
            foreach (var employeeId in batch) (byBucket[Bucket(employeeId, buckets)] ??= []).Add(employeeId);
        }
        long moved = 0;
        var call = new List<string>(MaxPerCall + RecordsPerBucket * 2);
        for (var b = 0; b < buckets; b++)
        {
            if (byBucket[b] is { } members) call.AddRange(members);
            if (call.Count < MaxPerCall && b < buckets - 1) continue;
            if (call.Count > 0) moved += (long)await db.ScriptEvaluateAsync(LuaScripts.FoldDeliveries, DeliveryKeys(announcementId, call));
            call.Clear();
        }
        return moved;
    }

    /// <summary>
    /// Gives an announcement its buckets, about 64 records each, before any record moves into one: from then on a
    /// settled record moves out of its gate key (delivery-records.lua) and a missing gate key means "look in the
    /// bucket". The first count written stays; returns the count in force.
    /// </summary>
    public async Task<int> EnsureBucketsAsync(string announcementId, long targeted)
    {
        var announcement = RedisKeys.Announcement(announcementId);
        await db.HashSetAsync(announcement, "foldBuckets", Math.Max(1, (targeted + RecordsPerBucket - 1) / RecordsPerBucket), When.NotExists);
        return (int)await db.HashGetAsync(announcement, "foldBuckets");
    }

    /// <summary>The bucket of an employee's folded record; delivery-records.lua's record_bucket is the same function.</summary>
    public static int Bucket(string employeeId, int buckets)
    {
        long h = 0;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(employeeId)) h = (h * 31 + b) % 2147483647;
        return (int)(h % buckets);
    }

    private const int RecordsPerBucket = 64;

    /// <summary>The announcement hash, then each employee's delivery key: the keys of the record scripts.</summary>
    private static RedisKey[] DeliveryKeys(string announcementId, IReadOnlyList<string> employeeIds)
    {
        var keys = new RedisKey[employeeIds.Count + 1];
        keys[0] = RedisKeys.Announcement(announcementId);
        for (var i = 0; i < employeeIds.Count; i++) keys[i + 1] = RedisKeys.Delivery(announcementId, employeeIds[i]);
        return keys;
    }
}
