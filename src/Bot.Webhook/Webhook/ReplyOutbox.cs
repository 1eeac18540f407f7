using Bot.Core.Redis;
using Bot.WhatsAppClient;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>A bot reply waiting in the outbox: the inbound message it answers, the number it goes out from, the recipient and the text.</summary>
public sealed record Reply(RedisValue EntryId, string InboundMessageId, string SenderId, string To, string Body);

/// <summary>
/// Bot replies on their way out. Exactly one per inbound message, like deliveries: the reply's record is created with
/// SET NX in the same script that appends it to the outbox, so processing a message twice queues one reply; and the
/// record moves <c>queued → sending</c> right before the send, so an entry taken over from a dead sender is never sent
/// blindly again (the Cloud API has no idempotency key) but recorded <c>unknown</c>.
/// </summary>
public sealed class ReplyOutbox(IDatabase db, TimeProvider time)
{
    public const string Group = "senders";

    /// <summary>Longer than Meta redelivers a webhook (7 days).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(8);

    private static readonly LuaScript Enqueue = LuaScripts.EnqueueReply;

    private static readonly LuaScript Claim = LuaScripts.ClaimReply;

    /// <summary>The outcome and the entry's completion in one step; a record that says sent stays sent.</summary>
    private static readonly LuaScript Settle = LuaScripts.SettleReply;

    public RedisStreamQueue Queue { get; } = new(db, RedisKeys.ReplyOutbox, Group, time);

    /// <summary>Queues the reply to an inbound message unless one was queued before; true when this call queued it.</summary>
    public async Task<bool> EnqueueAsync(string inboundMessageId, string senderId, string to, string body)
    {
        var queued = (long)await db.ScriptEvaluateAsync(Enqueue, new
        {
            record = RedisKeys.Reply(inboundMessageId),
            stream = Queue.Key,
            ttl = (long)Retention.TotalSeconds,
            message = inboundMessageId,
            sender = senderId,
            to,
            body,
        }) == 1;
        if (queued) Queue.Signal();
        return queued;
    }

    public static Reply Parse(StreamEntry entry) =>
        new(entry.Id, (string)entry["message"]!, (string?)entry["sender"] ?? Sender.Default, (string)entry["to"]!, (string)entry["body"]!);

    /// <summary>Takes the reply for sending; false when it was taken before (by a sender that may have sent it).</summary>
    public async Task<bool> TryClaimAsync(Reply reply) =>
        (long)await db.ScriptEvaluateAsync(Claim, new { record = RedisKeys.Reply(reply.InboundMessageId) }) == 1;

    /// <summary>Records the outcome (<c>sent|wamid</c>, <c>failed|code</c>, <c>unknown</c>) and removes the entry.</summary>
    public Task SettleAsync(Reply reply, string outcome) =>
        db.ScriptEvaluateAsync(Settle, new
        {
            record = RedisKeys.Reply(reply.InboundMessageId),
            outcome,
            stream = Queue.Key,
            group = Group,
            id = reply.EntryId,
        });

    /// <summary>The reply record of an inbound message: <c>queued</c>, <c>sending</c>, <c>sent|…</c>, <c>failed|…</c>, <c>unknown</c>.</summary>
    public async Task<string?> StateAsync(string inboundMessageId) => await db.StringGetAsync(RedisKeys.Reply(inboundMessageId));
}
