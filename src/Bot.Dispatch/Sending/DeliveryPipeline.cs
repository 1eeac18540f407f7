using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Templates;
using Bot.Core.Employees;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// Delivers one announcement to one employee: held by its timing, composed, claimed with its place in the messaging limit right before the request, sent
/// (<see cref="SendAttempts"/>), and its outcome recorded. A business-initiated message that finds the messaging limit
/// full is left for a later pass, unclaimed.
/// </summary>
public sealed partial class DeliveryPipeline(
    DeliveryWrites writes,
    EmployeeStore employees,
    SenderDirectory senders,
    SendTiming timing,
    DeliveryClaimer claimer,
    SendAttempts attempts,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<DeliveryPipeline> logger)
{
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
        if (message is null)
        {
            var template = pass.Announcement.Template!.Name;
            if (pass.Stop(TemplateAvailability.Reason(template, "not approved in any language"), now + options.Value.StopTheLinePause))
                LogNoVariant(pass.Announcement.Id, template);
            await pass.LineStopped.CancelAsync();
            return;
        }
        var businessInitiated = !inWindow || form == DeliveryForm.Template;
        // Once the messaging limit was found full, the pass's other business-initiated sends wait for a place without asking.
        if (businessInitiated && pass.DeferredUntil > now) return;
        await SendAndRecordAsync(pass, employee, message, claimer.For(pass, employee, form, businessInitiated, MessageComposer.TemplateOf(message)?.LanguageCode), token);
    }

    /// <summary>
    /// Sends under <paramref name="claim"/> (taken right before the request) and hands its outcome to the recorder; the
    /// pass's <see cref="Pass.Unrecorded"/> knows when it is written.
    /// </summary>
    public async Task SendAndRecordAsync(Pass pass, Employee employee, OutgoingMessage message, SendClaim claim, CancellationToken token)
    {
        if (await attempts.SendAsync(pass, message, pass.Unrecorded.Around(claim), token) is { } result)
            pass.Unrecorded.Recording(RecordAsync(pass.Announcement, employee, result));
    }

    private async Task RecordAsync(Announcement announcement, Employee employee, SendResult result)
    {
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
                // An answer about this recipient.
                await Record(new DeliveryRecord(DeliveryState.Failed, now, Error: result.ErrorCode?.ToString()));
                return;
        }

        // Batched with the other senders' outcomes and claims.
        Task Record(DeliveryRecord outcome) => writes.TransitionAsync(new DeliveryTransition(announcement.Id, employee.EmployeeId, outcome));
    }

    [LoggerMessage(LogLevel.Error, "Announcement {AnnouncementId} paused: template {Template} has no approved variant")]
    private partial void LogNoVariant(string announcementId, string template);

    [LoggerMessage(LogLevel.Warning, "Delivery {AnnouncementId}/{EmployeeId} has an unknown outcome ({Reason}); it will not be re-sent")]
    private partial void LogUnknown(string announcementId, string employeeId, string? reason);
}
