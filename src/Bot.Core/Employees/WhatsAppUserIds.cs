using System.Text.RegularExpressions;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Employees;

/// <summary>
/// The business-scoped user ids (BSUIDs) WhatsApp reports for employees, one per business portfolio: stored in the
/// employee hash (<c>bsuid:&lt;portfolio&gt;</c>) and the employer's index (<see cref="RedisKeys.UserIds"/>) by one
/// script, and in a global index per BSUID (<see cref="RedisKeys.UserIdOwners"/>) that a message without a number
/// is matched through. The global index lives in the BSUID's hash slot, so it is written after the script, like the
/// phone index: members are confirmed against the employee hash on read, and removed when replaced or forgotten.
/// </summary>
public sealed partial class WhatsAppUserIds(IDatabase db)
{
    private const string FieldPrefix = "bsuid:";

    /// <summary>A BSUID: ISO country code, a period, up to 128 alphanumerics (a parent BSUID has one more part).</summary>
    public static bool IsValid(string? userId) => userId is not null && Format().IsMatch(userId);

    /// <summary>
    /// Stores <paramref name="userId"/> as the employee's BSUID in <paramref name="portfolioId"/> (and their username
    /// when given); false when the employee does not exist or was removed. Cheap when nothing changed: one script call.
    /// </summary>
    public async Task<bool> LearnAsync(string employerId, string employeeId, string portfolioId, string userId, string? username = null)
    {
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(LuaScripts.SetEmployeeUserId,
            [RedisKeys.Employee(employerId, employeeId), RedisKeys.UserIds(employerId)],
            [employeeId, portfolioId, userId, username ?? ""]))!;
        switch ((string?)reply[0])
        {
            case "learned":
                var member = Member(employerId, employeeId);
                await db.SetAddAsync(RedisKeys.UserIdOwners(portfolioId, userId), member);
                if ((string?)reply[1] is { Length: > 0 } old) await db.SetRemoveAsync(RedisKeys.UserIdOwners(portfolioId, old), member);
                if ((string?)reply[2] is { Length: > 0 } holder)
                    await db.SetRemoveAsync(RedisKeys.UserIdOwners(portfolioId, userId), Member(employerId, holder));
                return true;
            case "unchanged":
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Forgets the employee's BSUIDs (of one portfolio, or all when <paramref name="portfolioId"/> is null): a new number
    /// has new BSUIDs, and a removed employee is found by none.
    /// </summary>
    public async Task ForgetAsync(string employerId, string employeeId, string? portfolioId = null)
    {
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(LuaScripts.SetEmployeeUserId,
            [RedisKeys.Employee(employerId, employeeId), RedisKeys.UserIds(employerId)],
            [employeeId, portfolioId ?? "", "", ""]))!;
        var member = Member(employerId, employeeId);
        for (var i = 1; i + 1 < reply.Length; i += 2)
            await db.SetRemoveAsync(RedisKeys.UserIdOwners((string)reply[i]!, (string)reply[i + 1]!), member);
    }

    /// <summary>The employees (of any employer) whose BSUID in <paramref name="portfolioId"/> is <paramref name="userId"/>, not removed.</summary>
    public async Task<IReadOnlyList<(string EmployerId, string EmployeeId)>> FindAsync(string portfolioId, string userId)
    {
        var members = await db.SetMembersAsync(RedisKeys.UserIdOwners(portfolioId, userId));
        var owners = members.Select(m => ((string)m!).Split(':', 2)).Where(p => p.Length == 2).ToArray();
        var batch = db.CreateBatch();
        var reads = owners.Select(o => batch.HashGetAsync(RedisKeys.Employee(o[0], o[1]), ["status", FieldPrefix + portfolioId])).ToArray();
        batch.Execute();
        var values = await Task.WhenAll(reads);
        // The employee hash is the truth; the global index may lag behind a change or a removal.
        return [.. owners.Where((_, i) => values[i][0] is { IsNull: false } s && s != EmployeeStatus.Removed && values[i][1] == userId)
            .Select(o => (o[0], o[1]))];
    }

    /// <summary>The employee's BSUIDs: portfolio → BSUID.</summary>
    public async Task<IReadOnlyDictionary<string, string>> OfAsync(string employerId, string employeeId)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var entry in db.HashScanAsync(RedisKeys.Employee(employerId, employeeId), FieldPrefix + "*"))
            result[((string)entry.Name!)[FieldPrefix.Length..]] = entry.Value!;
        return result;
    }

    /// <summary>Each employee's BSUID in <paramref name="portfolioId"/> (null where none), in one pipelined round trip.</summary>
    public async Task<string?[]> InPortfolioAsync(string employerId, IReadOnlyList<string> employeeIds, string portfolioId)
    {
        var batch = db.CreateBatch();
        var reads = employeeIds.Select(id => batch.HashGetAsync(RedisKeys.Employee(employerId, id), FieldPrefix + portfolioId)).ToArray();
        batch.Execute();
        return [.. (await Task.WhenAll(reads)).Select(v => (string?)v)];
    }

    private static string Member(string employerId, string employeeId) => $"{employerId}:{employeeId}";

    [GeneratedRegex("^[A-Z]{2}(\\.[A-Za-z0-9]{1,128}){1,2}$")]
    private static partial Regex Format();
}
