using Bot.Core.Employees;
using Bot.Core.Tenants;
using Bot.WhatsAppClient;

namespace Bot.Webhook.Webhook;

/// <summary>
/// WhatsApp's <c>system</c> messages about an employee's identity. <c>user_changed_number</c> (older:
/// <c>customer_changed_number</c> with <c>new_wa_id</c>) from the employee's number: the same person on a new number,
/// so they move to it (<see cref="PhoneChanges"/>), unless another employee of that employer holds it.
/// <c>user_changed_user_id</c>: their BSUID in this sender's portfolio is replaced. Idempotent, like every inbound effect.
/// </summary>
public sealed partial class SystemMessages(
    PhoneChanges phoneChanges, EmployeeStore employees, WhatsAppUserIds userIds, TenantStore tenants, ILogger<SystemMessages> logger)
{
    /// <summary>The audit actor of what WhatsApp itself reported.</summary>
    public const string WhatsAppActor = "whatsapp";

    public async Task HandleAsync(Sender sender, WebhookMessage message, IReadOnlyList<(string EmployerId, Employee Employee)> owners, DateTimeOffset at)
    {
        switch (message.System)
        {
            case { Type: "user_changed_number" or "customer_changed_number" } system:
                if (InboundAuthor.Valid(system.WaId ?? system.NewWaId) is not { } newWaId ||
                    !PhoneNormalizer.TryNormalize("+" + newWaId, out var phone, out _)) return;
                foreach (var (employerId, employee) in owners) await MoveAsync(employerId, employee.EmployeeId, phone, newWaId, at);
                break;
            case { Type: "user_changed_user_id", UserId: var userId } when WhatsAppUserIds.IsValid(userId):
                foreach (var (employerId, employee) in owners) await userIds.LearnAsync(employerId, employee.EmployeeId, sender.Portfolio, userId!);
                break;
        }
    }

    private async Task MoveAsync(string employerId, string employeeId, string phone, string newWaId, DateTimeOffset at)
    {
        switch (await phoneChanges.ApplyAsync(employerId, employeeId, phone, at))
        {
            case RelinkResult.Linked:
                await employees.SetWaIdAsync(employerId, employeeId, phone, newWaId);
                await tenants.AuditAsync(new AuditEvent(WhatsAppActor, "employee.phone_changed", employeeId, employerId));
                LogMoved(employerId, employeeId, PhoneMask.Mask(phone));
                break;
            case RelinkResult.Unchanged:
                // Applied before (an inbound event is handled at least once): its audit entry is there.
                await employees.SetWaIdAsync(employerId, employeeId, phone, newWaId);
                break;
            case RelinkResult.PhoneConflict:
                await tenants.AuditAsync(new AuditEvent(WhatsAppActor, "employee.phone_change_refused", employeeId, employerId));
                LogRefused(employerId, employeeId, PhoneMask.Mask(phone));
                break;
        }
    }

    [LoggerMessage(LogLevel.Information, "Employee {EmployerId}/{EmployeeId} moved to {Phone}: WhatsApp reported a number change")]
    private partial void LogMoved(string employerId, string employeeId, string phone);

    [LoggerMessage(LogLevel.Warning, "Employee {EmployerId}/{EmployeeId} changed number on WhatsApp to {Phone}, which another employee of the employer holds: not moved (recorded on the employee)")]
    private partial void LogRefused(string employerId, string employeeId, string phone);
}
