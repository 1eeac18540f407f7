using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Remembers which inbound messages were processed. Meta redelivers an event until it gets a 200 (for up to 7 days)
/// and says duplicates happen even then; and the inbox itself processes an entry again after a crash. A message is
/// marked done only after its effect and its reply are stored, so a crash in between is repaired by processing it
/// again (at least once), and a message marked done is skipped (a STOP redelivered after a START changes nothing).
/// </summary>
public sealed class WebhookEventLog(IDatabase db)
{
    /// <summary>Longer than Meta's 7 days of redelivery.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    public const int MaxIdLength = 256;

    /// <summary>
    /// Ids used in keys and in delivery records: printable ASCII without the braces of a hash tag or the '|'
    /// of a delivery record. A wamid is "wamid." and base64.
    /// </summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id.All(c => c is > ' ' and < '\x7f' and not '{' and not '}' and not '|');

    /// <summary>Which of these events were processed before (pipelined; the keys live in different slots).</summary>
    public async Task<bool[]> AreDoneAsync(IReadOnlyList<string> eventIds)
    {
        if (eventIds.Count == 0) return [];
        var batch = db.CreateBatch();
        var checks = eventIds.Select(id => batch.KeyExistsAsync(RedisKeys.WebhookEvent(id))).ToArray();
        batch.Execute();
        return await Task.WhenAll(checks);
    }

    public Task MarkDoneAsync(string eventId) => db.StringSetAsync(RedisKeys.WebhookEvent(eventId), 1, Retention);
}
