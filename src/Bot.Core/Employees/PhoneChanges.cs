using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Employees;

/// <summary>How an employee is known on WhatsApp beyond their phone: what <c>GET /api/employees/{id}</c> adds.</summary>
/// <param name="UserIds">Portfolio → business-scoped user id (BSUID).</param>
/// <param name="PhoneChangedAt">When WhatsApp last moved the employee to a new number.</param>
/// <param name="PhoneChangedBy"><c>whatsapp</c> when that move was WhatsApp's <c>user_changed_number</c>.</param>
/// <param name="PhoneChangeRefused">A number WhatsApp reported the employee changed to that another employee of the
/// employer holds, and when: not taken, for the employer to sort out.</param>
public sealed record WhatsAppIdentity(
    IReadOnlyDictionary<string, string> UserIds,
    DateTimeOffset? PhoneChangedAt,
    string? PhoneChangedBy,
    RefusedPhoneChange? PhoneChangeRefused);

public sealed record RefusedPhoneChange(string Phone, DateTimeOffset At);

/// <summary>
/// A number change WhatsApp reports (<c>user_changed_number</c>): the same person, so the employee moves to the new
/// number as a JOIN moves them (history kept, nothing re-sent), and the move is recorded on the employee. A number
/// another employee of the employer holds is not taken; the refusal is recorded on the employee instead.
/// </summary>
public sealed class PhoneChanges(IDatabase db, EmployeeStore employees, WhatsAppUserIds userIds)
{
    public const string ByWhatsApp = "whatsapp";

    /// <param name="at">When WhatsApp reported it (the message time): processing the same report again writes the same record.</param>
    public async Task<RelinkResult> ApplyAsync(string employerId, string employeeId, string newPhone, DateTimeOffset at)
    {
        var result = await employees.RelinkPhoneAsync(employerId, employeeId, newPhone);
        var key = RedisKeys.Employee(employerId, employeeId);
        switch (result)
        {
            case RelinkResult.Linked or RelinkResult.Unchanged:
                // The record the audit trail and GET /api/employees/{id} read; a refusal before it is settled now. Also
                // when unchanged: the report processed again after a crash right after the move still records it.
                await db.HashSetAsync(key, [new("phoneChangedAt", at.ToUnixMs()), new("phoneChangedBy", ByWhatsApp)]);
                await db.HashDeleteAsync(key, ["phoneChangeRefusedPhone", "phoneChangeRefusedAt"]);
                break;
            case RelinkResult.PhoneConflict:
                await db.HashSetAsync(key, [new("phoneChangeRefusedPhone", newPhone), new("phoneChangeRefusedAt", at.ToUnixMs())]);
                break;
        }
        return result;
    }

    public async Task<WhatsAppIdentity> IdentityAsync(string employerId, string employeeId)
    {
        var v = await db.HashGetAsync(RedisKeys.Employee(employerId, employeeId),
            ["phoneChangedAt", "phoneChangedBy", "phoneChangeRefusedPhone", "phoneChangeRefusedAt"]);
        return new WhatsAppIdentity(
            await userIds.OfAsync(employerId, employeeId),
            v[0].IsNull ? null : Clock.FromUnixMs((long)v[0]),
            (string?)v[1],
            v[2].IsNull || v[3].IsNull ? null : new RefusedPhoneChange((string)v[2]!, Clock.FromUnixMs((long)v[3])));
    }
}
