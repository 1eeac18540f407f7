using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Events;

/// <summary>An event on its way to an employer's endpoint, with its retry budget's state.</summary>
public sealed record OutgoingEvent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("announcementId")] string AnnouncementId,
    [property: JsonPropertyName("employeeId")] string? EmployeeId,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("messageId")] string? MessageId,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("attempts")] int Attempts = 0,
    [property: JsonPropertyName("firstTriedAt")] DateTimeOffset? FirstTriedAt = null,
    [property: JsonPropertyName("lastStatusCode")] int? LastStatusCode = null,
    [property: JsonPropertyName("lastError")] string? LastError = null);

/// <summary>One POST of an event and how it ended.</summary>
public sealed record EventAttempt(
    [property: JsonPropertyName("eventId")] string EventId,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("statusCode")] int? StatusCode,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("outcome")] string Outcome);

public enum AttemptOutcome { Delivered, Retrying, Failed }

public static class AttemptOutcomes
{
    /// <summary>How an outcome is written: in the attempts log and to settle-webhook-events.lua.</summary>
    public static string Name(this AttemptOutcome outcome) => outcome switch
    {
        AttemptOutcome.Delivered => "delivered",
        AttemptOutcome.Retrying => "retrying",
        _ => "failed",
    };
}

/// <summary>An attempt to record: the event after it, the attempt, its outcome, and when the event is due again (or failed).</summary>
public sealed record EventSettlement(OutgoingEvent After, EventAttempt Attempt, AttemptOutcome Outcome, DateTimeOffset Next);

/// <summary>
/// An employer's events between the outboxes and the endpoint, all in the employer's hash slot: a hash of the events, a
/// ZSET of when each is due (claims are due times in the future), a ZSET of the failed ones and a log of attempts.
/// </summary>
public sealed class EventQueue(IDatabase db)
{
    private const int AttemptsKept = 200;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Reads new entries of each of the announcements' outboxes, and those another host took but never acknowledged, in
    /// one pipelined round trip; null for an outbox that no longer exists (its announcement expired).
    /// </summary>
    public async Task<StreamEntry[]?[]> ReadOutboxesAsync(IReadOnlyList<string> announcementIds, string consumer, TimeSpan claimTimeout, int count)
    {
        var batch = db.CreateBatch();
        var reads = announcementIds.Select(id => (
            Stale: batch.StreamAutoClaimAsync(EventKeys.Outbox(id), EventKeys.Group, consumer, (long)claimTimeout.TotalMilliseconds, "0-0", count),
            Fresh: batch.StreamReadGroupAsync(EventKeys.Outbox(id), EventKeys.Group, consumer, StreamPosition.NewMessages, count))).ToArray();
        batch.Execute();
        var result = new StreamEntry[]?[reads.Length];
        for (var i = 0; i < reads.Length; i++)
        {
            try
            {
                var stale = await reads[i].Stale;
                result[i] = [.. stale.ClaimedEntries.Where(e => !e.IsNull), .. await reads[i].Fresh];
            }
            catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // Observe the other read's failure too, so it is not left unobserved.
                try { await reads[i].Fresh; } catch (RedisServerException) { }
                result[i] = null;
            }
        }
        return result;
    }

    /// <summary>Queues the outbox entries of types the endpoint <paramref name="wants"/> (one script call for all of them),
    /// then acknowledges and deletes all of them from the outbox (one pipelined round trip). The queueing is idempotent,
    /// so a crash in between only queues them again, as the same events.</summary>
    public async Task TakeAsync(string employerId, string announcementId, IReadOnlyList<StreamEntry> entries, DateTimeOffset now, Func<string, bool> wants)
    {
        if (entries.Count == 0) return;
        var args = new List<RedisValue>(1 + 2 * entries.Count) { now.ToUnixMs() };
        foreach (var entry in entries)
        {
            var e = ToEvent(entry);
            if (!wants(e.Type)) continue;
            args.Add(e.Id);
            args.Add(JsonSerializer.SerializeToUtf8Bytes(e, Json));
        }
        if (args.Count > 1)
            await db.ScriptEvaluateAsync(LuaScripts.TakeWebhookEvents, [EventKeys.Events(employerId), EventKeys.Due(employerId)], [.. args]);
        var ids = new RedisValue[entries.Count];
        for (var i = 0; i < ids.Length; i++) ids[i] = entries[i].Id;
        var key = EventKeys.Outbox(announcementId);
        var batch = db.CreateBatch();
        var ack = batch.StreamAcknowledgeAsync(key, EventKeys.Group, ids);
        var delete = batch.StreamDeleteAsync(key, ids);
        batch.Execute();
        await Task.WhenAll(ack, delete);
    }

    private static OutgoingEvent ToEvent(StreamEntry entry)
    {
        string? Field(string name) => entry[name] is { IsNullOrEmpty: false } v ? (string)v! : null;
        return new OutgoingEvent(Field("id")!, Field("type")!, Field("announcementId")!, Field("employeeId"),
            Clock.FromUnixMs(long.Parse(Field("at") ?? "0", System.Globalization.CultureInfo.InvariantCulture)), Field("messageId"), Field("error"));
    }

    /// <summary>Claims up to <paramref name="max"/> due events until <paramref name="claimUntil"/>.</summary>
    public async Task<IReadOnlyList<OutgoingEvent>> ClaimDueAsync(string employerId, DateTimeOffset now, DateTimeOffset claimUntil, int max)
    {
        var result = (RedisValue[])(await db.ScriptEvaluateAsync(LuaScripts.ClaimWebhookEvents,
            [EventKeys.Due(employerId), EventKeys.Events(employerId)], [now.ToUnixMs(), claimUntil.ToUnixMs(), max]))!;
        var events = new List<OutgoingEvent>(result.Length / 2);
        for (var i = 1; i < result.Length; i += 2) events.Add(JsonSerializer.Deserialize<OutgoingEvent>((string)result[i]!, Json)!);
        return events;
    }

    /// <summary>When the employer's next event is due (a claim's expiry counts), or null when none waits.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(string employerId)
    {
        var first = await db.SortedSetRangeByRankWithScoresAsync(EventKeys.Due(employerId), 0, 0);
        return first.Length == 0 ? null : Clock.FromUnixMs((long)first[0].Score);
    }

    /// <summary>Records attempts and their outcomes, in the order given (the order they ended), in one script call; how
    /// many were settled — fewer when this host's claim on some had run out meanwhile.</summary>
    public async Task<long> SettleAsync(string employerId, IReadOnlyCollection<EventSettlement> settlements, DateTimeOffset claimUntil)
    {
        if (settlements.Count == 0) return 0;
        var args = new RedisValue[2 + 5 * settlements.Count];
        args[0] = claimUntil.ToUnixMs();
        args[1] = AttemptsKept;
        var i = 2;
        foreach (var s in settlements)
        {
            args[i++] = s.After.Id;
            args[i++] = s.Outcome.Name();
            // A delivered event is forgotten: its state after the attempt is never read again.
            args[i++] = s.Outcome == AttemptOutcome.Delivered ? RedisValue.EmptyString : JsonSerializer.SerializeToUtf8Bytes(s.After, Json);
            args[i++] = s.Next.ToUnixMs();
            args[i++] = JsonSerializer.SerializeToUtf8Bytes(s.Attempt, Json);
        }
        return (long)await db.ScriptEvaluateAsync(LuaScripts.SettleWebhookEvents,
            [EventKeys.Due(employerId), EventKeys.Events(employerId), EventKeys.Failed(employerId), EventKeys.Attempts(employerId)], args);
    }

    /// <summary>The latest attempts, newest first.</summary>
    public async Task<IReadOnlyList<EventAttempt>> AttemptsAsync(string employerId, int limit) =>
        [.. (await db.ListRangeAsync(EventKeys.Attempts(employerId), 0, limit - 1)).Select(v => JsonSerializer.Deserialize<EventAttempt>((string)v!, Json)!)];

    /// <summary>The failed events (kept for replay), oldest failure first, with when each failed.</summary>
    public async Task<IReadOnlyList<(OutgoingEvent Event, DateTimeOffset FailedAt)>> FailedAsync(string employerId, int limit)
    {
        var failed = await db.SortedSetRangeByRankWithScoresAsync(EventKeys.Failed(employerId), 0, limit - 1);
        if (failed.Length == 0) return [];
        var events = await db.HashGetAsync(EventKeys.Events(employerId), [.. failed.Select(f => f.Element)]);
        return [.. failed.Zip(events).Where(p => !p.Second.IsNull)
            .Select(p => (JsonSerializer.Deserialize<OutgoingEvent>((string)p.Second!, Json)!, Clock.FromUnixMs((long)p.First.Score)))];
    }

    /// <summary>Queues the events that failed at or after <paramref name="since"/> again, each with a fresh retry budget.</summary>
    public async Task<long> ReplayAsync(string employerId, DateTimeOffset since, DateTimeOffset now) =>
        (long)await db.ScriptEvaluateAsync(LuaScripts.ReplayWebhookEvents,
            [EventKeys.Failed(employerId), EventKeys.Due(employerId), EventKeys.Events(employerId)], [since.ToUnixMs(), now.ToUnixMs()]);
}
