using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Remembers which webhook events were processed. Meta redelivers an event until it gets a 200 (for up to 7
/// days) and says duplicates happen even then, so each event id is claimed with SET NX before it is acted on.
/// </summary>
public sealed class WebhookEventLog(IDatabase db)
{
    /// <summary>Longer than Meta's 7 days of redelivery.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    public const int MaxIdLength = 256;

    private IDatabase Db => db;

    /// <summary>
    /// Ids used in keys and in delivery records: printable ASCII without the braces of a hash tag or the '|'
    /// of a delivery record. A wamid is "wamid." and base64.
    /// </summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id.All(c => c is > ' ' and < '\x7f' and not '{' and not '}' and not '|');

    /// <summary>Claims each event id (pipelined); true where this caller is the first to see it.</summary>
    public async Task<bool[]> TryBeginAsync(IReadOnlyList<string> eventIds)
    {
        if (eventIds.Count == 0) return [];
        var batch = Db.CreateBatch();
        var claims = eventIds.Select(id => batch.StringSetAsync(RedisKeys.WebhookEvent(id), 1, Retention, When.NotExists)).ToArray();
        batch.Execute();
        return await Task.WhenAll(claims);
    }

    /// <summary>Gives claims back when processing failed, so Meta's redelivery is processed instead of skipped.</summary>
    public async Task ForgetAsync(IReadOnlyList<string> eventIds)
    {
        if (eventIds.Count == 0) return;
        // One DEL per key: the keys live in different hash slots.
        var batch = Db.CreateBatch();
        var deletes = eventIds.Select(id => batch.KeyDeleteAsync(RedisKeys.WebhookEvent(id))).ToArray();
        batch.Execute();
        await Task.WhenAll(deletes);
    }
}
