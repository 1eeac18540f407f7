using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// The webhook's inbox: each signed body is appended to a Redis Stream before the 200, so Meta gets its answer at
/// once however slow WhatsApp or Redis-heavy the processing is, and a crash after the 200 loses nothing.
/// </summary>
public sealed class WebhookInbox(IDatabase db, TimeProvider time)
{
    public const string Group = "workers";

    /// <summary>STREAM of bodies that failed <see cref="WebhookOptions.MaxAttempts"/> times: kept for an operator, not dropped,
    /// up to the newest <see cref="WebhookOptions.DeadLetterMax"/>.</summary>
    public static readonly RedisKey DeadLetters = "webhook:{inbox}:dead";

    private const string BodyField = "body";

    private static readonly LuaScript MoveToDeadLetters = LuaScripts.DeadLetterWebhook;

    public RedisStreamQueue Queue { get; } = new(db, RedisKeys.WebhookInbox, Group, time);

    public Task<RedisValue> AppendAsync(ReadOnlyMemory<byte> body) => Queue.AddAsync(new NameValueEntry(BodyField, body));

    public static ReadOnlyMemory<byte> BodyOf(StreamEntry entry) => (ReadOnlyMemory<byte>)entry[BodyField];

    /// <param name="max">The dead-letter stream keeps this many entries, the oldest dropped first.</param>
    public Task DeadLetterAsync(StreamEntry entry, int max) =>
        db.ScriptEvaluateAsync(MoveToDeadLetters,
            new { dead = DeadLetters, max, stream = Queue.Key, group = Group, id = entry.Id, body = entry[BodyField] });
}
