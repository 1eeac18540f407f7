using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Bot.Core.Redis;

/// <summary>What an earlier request with the same Idempotency-Key left: its answer, or that it is still under way.</summary>
public abstract record IdempotentReplay
{
    public sealed record Answered(int Status, string Body) : IdempotentReplay;

    public sealed record UnderWay : IdempotentReplay;

    public sealed record OtherRequest : IdempotentReplay;
}

/// <summary>
/// Idempotency keys of requests that act on something that exists (a retry): the first request with a key takes it
/// before it acts and stores its answer after, so a repeat (double click, client or proxy retry) gets the same answer
/// and acts on nothing. Creating an announcement needs none of this: its id is derived from the key.
/// </summary>
public sealed class IdempotencyStore(IDatabase db)
{
    /// <summary>Null when this request took the key and may act; else what the first request with it left.</summary>
    public async Task<IdempotentReplay?> TakeAsync(string employerId, string key, string request)
    {
        var result = await db.ScriptEvaluateAsync(LuaScripts.IdempotentRequest, [Key(employerId, key)],
            ["take", Hash(request), (long)UnderWayFor.TotalMilliseconds, "", ""]);
        if (result.IsNull) return null;
        var stored = (RedisValue[])result!;
        if (stored[0] != Hash(request)) return new IdempotentReplay.OtherRequest();
        return stored[1].IsNullOrEmpty ? new IdempotentReplay.UnderWay() : new IdempotentReplay.Answered((int)stored[1], (string)stored[2]!);
    }

    /// <summary>How long a taken key waits for its answer: a request that died half-way frees it after this.</summary>
    public static readonly TimeSpan UnderWayFor = TimeSpan.FromMinutes(1);

    /// <summary>Stores the answer of the request that took the key, kept for <paramref name="retention"/>.</summary>
    public Task AnswerAsync(string employerId, string key, string request, int status, string body, TimeSpan retention) =>
        db.ScriptEvaluateAsync(LuaScripts.IdempotentRequest, [Key(employerId, key)],
            ["answer", Hash(request), Math.Max(1, (long)retention.TotalMilliseconds), status, body]);

    /// <summary>
    /// Gives the key back when its request was refused for now (the announcement was busy) and did nothing: remembering
    /// that answer would refuse the client's retry with the same key for days.
    /// </summary>
    public Task ReleaseAsync(string employerId, string key, string request) =>
        db.ScriptEvaluateAsync(LuaScripts.IdempotentRequest, [Key(employerId, key)], ["release", Hash(request), 0, "", ""]);

    /// <summary>Hashed: a key is up to 255 printable characters of the client's choosing, braces included.</summary>
    public static RedisKey Key(string employerId, string key) => RedisKeys.Idempotency(employerId, Hash(key));

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
