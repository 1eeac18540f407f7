using System.Security.Cryptography;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Employees;

/// <summary>A join code as issued: what the employee sends as <c>JOIN &lt;code&gt;</c>, and until when.</summary>
public sealed record JoinCode(string Code, DateTimeOffset ExpiresAt);

/// <summary>
/// One-time codes that link a (new) WhatsApp number to an employee. A code is a key with a TTL; taking it marks it
/// used by one inbound message (atomically, in Lua): of two JOINs with the same code exactly one gets it, the same
/// JOIN processed again (the webhook inbox is at-least-once) gets it again, and an expired code is simply gone.
/// </summary>
public sealed class JoinCodeStore(IDatabase db, TimeProvider time)
{
    /// <summary>No 0/O, 1/I/L: the code is read off one screen and typed into another.</summary>
    public const string Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    public const int Length = 8;
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>A code's value is "employerId:employeeId", and "used|messageId|employerId:employeeId" once taken.</summary>
    private static readonly LuaScript Consume = LuaScripts.ConsumeJoinCode;

    public async Task<JoinCode> IssueAsync(string employerId, string employeeId)
    {
        while (true)
        {
            var code = new string(RandomNumberGenerator.GetItems<char>(Alphabet, Length));
            // NX: a collision (31^8 codes) must not hand someone else's live code to this employee.
            if (await db.StringSetAsync(RedisKeys.JoinCode(code), $"{employerId}:{employeeId}", Lifetime, When.NotExists))
                return new JoinCode(code, time.GetUtcNow() + Lifetime);
        }
    }

    /// <summary>
    /// Takes a code (single use) for one inbound message; null when it is malformed, expired, used by another message
    /// or never existed.
    /// </summary>
    public async Task<(string EmployerId, string EmployeeId)?> ConsumeAsync(string code, string messageId)
    {
        var normalized = code.Trim().ToUpperInvariant();
        if (normalized.Length != Length || normalized.Any(c => !Alphabet.Contains(c))) return null;
        var value = (string?)await db.ScriptEvaluateAsync(Consume, new { code = RedisKeys.JoinCode(normalized), message = messageId });
        var parts = value?.Split(':', 2);
        return parts is [var employerId, var employeeId] ? (employerId, employeeId) : null;
    }
}
