using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;

namespace Bot.Dispatch;

/// <summary>
/// Delivers one announcement to one employee: held by its timing, composed, the messaging limit, claimed, sent
/// (<see cref="SendAttempts"/>), and its outcome recorded. A business-initiated message that finds the messaging limit
/// full is left for a later pass, unclaimed.
/// </summary>
public sealed partial class DeliveryPipeline(
    DeliveryStore deliveries,
    EmployeeStore employees,
    SenderDirectory senders,
    SendTiming timing,
    MessagingLimitGate limit,
    DeliveryClaimer claimer,
    SendAttempts attempts,
    TimeProvider time,
    ILogger<DeliveryPipeline> logger)
{
    private readonly DeliveryRecorder recorder = new(deliveries);

    public async Task DeliverAsync(Pass pass, Employee employee, CancellationToken token)
    {
        if (timing.HeldUntil(pass.Announcement, employee) is { } heldUntil)
        {
            pass.Hold(heldUntil);
            return;
        }
        var now = time.GetUtcNow();
        var inWindow = employee.InWindow(now, senders.CustomerServiceWindow);
        var (form, message) = MessageComposer.Announcement(pass, employee, inWindow);
        if ((!inWindow || form == DeliveryForm.Template) && !await limit.ReachAsync(pass, employee, now)) return;
        if (await claimer.TryClaimAsync(pass, employee.EmployeeId, form) is not { } claim) return;
        await SendClaimedAsync(pass, employee, message, claim, () => claimer.ReleaseAsync(pass, employee.EmployeeId, claim), token);
    }

    /// <summary>Sends a claimed delivery and records its outcome; <paramref name="giveBack"/> undoes the claim for a send known not to have gone out.</summary>
    public async Task SendClaimedAsync(Pass pass, Employee employee, OutgoingMessage message, DeliveryRecord claim, Func<Task> giveBack, CancellationToken token)
    {
        var announcement = pass.Announcement;
        var result = await attempts.SendAsync(pass, message, giveBack,
            () => deliveries.IsHeldAsync(announcement.Id, employee.EmployeeId, claim), token);
        if (result is null) return;
        var now = time.GetUtcNow();
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                await Record(new DeliveryRecord(DeliveryState.Sent, now, result.MessageId));
                if (result.WaId is { } waId) await employees.SetWaIdAsync(announcement.EmployerId, employee.EmployeeId, employee.Phone, waId);
                return;
            case SendOutcome.Unknown:
                LogUnknown(announcement.Id, employee.EmployeeId, result.Error);
                await Record(new DeliveryRecord(DeliveryState.Unknown, now, Error: result.ErrorCode?.ToString() ?? "no_answer"));
                return;
            default:
                // Permanent, or retryable with no attempt left.
                await Record(new DeliveryRecord(DeliveryState.Failed, now, Error: result.ErrorCode?.ToString()));
                return;
        }

        // Batched with the other senders' outcomes; awaited before this sender claims another delivery.
        Task Record(DeliveryRecord outcome) => recorder.TransitionAsync(new DeliveryTransition(announcement.Id, employee.EmployeeId, outcome));
    }

    [LoggerMessage(LogLevel.Warning, "Delivery {AnnouncementId}/{EmployeeId} has an unknown outcome ({Reason}); it will not be re-sent")]
    private partial void LogUnknown(string announcementId, string employeeId, string? reason);
}
