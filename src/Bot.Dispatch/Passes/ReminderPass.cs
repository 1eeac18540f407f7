using System.Runtime.CompilerServices;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// Required acknowledgement: an announcement that reminds is queued again when its sending completes, due
/// <c>remindAfter</c> later; the dispatcher that claims it then runs reminder n (stored on the announcement) under the
/// same lease, lock, rate lanes and messaging limit as a fan-out, and queues it again for reminder n + 1 another
/// <c>remindAfter</c> after this pass finished, until <c>maxReminders</c> went. Each reminder is gated per employee by
/// its own SET NX key taken right before the send, together with a look at the acknowledgements: at most once per
/// employee, none after the tap.
/// </summary>
public sealed partial class ReminderPass(
    AnnouncementStore announcements,
    EmployeeStore employees,
    DeliveryStore deliveries,
    AcknowledgementStore acknowledgements,
    SenderDirectory senders,
    PassRunner runner,
    SendTiming timing,
    ClaimConfirmation confirmation,
    SendAttempts attempts,
    DispatchPause pause,
    DispatcherMetrics metrics,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<ReminderPass> logger)
{
    private readonly DispatcherOptions options = options.Value;

    public async Task RunAsync(AnnouncementQueue queue, Announcement announcement, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        var id = announcement.Id;
        var policy = announcement.Acknowledgement!;
        var reminder = announcement.AcknowledgementProgress?.NextReminder ?? 0;
        if (reminder < 1 || reminder > policy.MaxReminders)
        {
            await queue.RemoveAsync(id, dispatcher);
            return;
        }
        var sender = senders.ForEmployer(announcement.EmployerId, announcement.SenderId);
        if (pause.IsPaused(sender.Id, announcement.EmployerId))
        {
            // The status stays completed: a pause is about the sender, and the reminder simply waits for its end.
            await runner.WaitOutPauseAsync(queue, id, dispatcher, sender);
            return;
        }

        var owner = runner.NewOwner(dispatcher);
        var total = await announcements.EnsureTargetsAsync(announcement, employees.AudienceAsync(announcement.EmployerId, announcement.Audience), owner);
        var reminded = 0;
        var (end, _) = await runner.RunAsync(queue, announcement, dispatcher, owner, total, stillHeld,
            (pass, token) => ToRemindAsync(pass, total, token),
            async (pass, employee, token) =>
            {
                if (await RemindOneAsync(pass, reminder, employee, token)) Interlocked.Increment(ref reminded);
            },
            stopping);
        if (end != PassEnd.Done) return;
        DateTimeOffset? next = reminder < policy.MaxReminders ? time.GetUtcNow() + policy.RemindAfter!.Value : null;
        if (await acknowledgements.AdvanceReminderAsync(id, reminder, next)) LogReminded(id, reminder, reminded, next);
        if (next is { } at) await queue.RequeueAsync(id, dispatcher, at);
        else await queue.RemoveAsync(id, dispatcher);
    }

    /// <summary>
    /// The targets to remind, batch by batch: not acknowledged, sent the announcement (sent, delivered or read: a failed,
    /// skipped or unknown delivery has no button to tap), and still active. The lock and lease are checked before each batch.
    /// </summary>
    private async IAsyncEnumerable<Employee> ToRemindAsync(Pass pass, long total, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var announcement = pass.Announcement;
        for (long offset = 0; offset < total; offset += options.BatchSize)
        {
            pass.Offset = offset;
            if (cancellationToken.IsCancellationRequested || !pass.MayGoOn()) yield break;
            var employeeIds = await announcements.TargetsAsync(announcement.Id, offset, offset + options.BatchSize - 1);
            var acknowledged = acknowledgements.AcknowledgedAtAsync(announcement.Id, employeeIds);
            var records = deliveries.GetManyAsync(announcement.Id, employeeIds);
            var people = employees.RecipientsAsync(announcement.EmployerId, employeeIds, pass.Sender.Id);
            await Task.WhenAll(acknowledged, records, people);
            for (var i = 0; i < employeeIds.Length; i++)
            {
                if (acknowledged.Result[i] is null &&
                    records.Result[i] is { State: DeliveryState.Sent or DeliveryState.Delivered or DeliveryState.Read } &&
                    people.Result[i] is { Status: EmployeeStatus.Active } employee)
                    yield return employee;
            }
        }
        pass.Offset = total;
    }

    /// <summary>
    /// Sends reminder <paramref name="reminder"/> to one employee, after taking its gate; true when WhatsApp accepted it.
    /// The delivery record is not touched: it describes the announcement's own message.
    /// </summary>
    private async Task<bool> RemindOneAsync(Pass pass, int reminder, Employee employee, CancellationToken token)
    {
        var announcement = pass.Announcement;
        if (timing.HeldUntil(announcement, employee) is { } heldUntil)
        {
            // Quiet hours hold a reminder as they hold the announcement; its gate is not taken, so a later pass sends it.
            pass.Hold(heldUntil);
            return false;
        }
        var now = time.GetUtcNow();
        var inWindow = employee.InWindow(now, senders.CustomerServiceWindow);
        var message = MessageComposer.Reminder(pass, employee, inWindow, reminder);
        // A reminder outside the window is business-initiated like the announcement: it takes a place in the messaging limit.
        var businessInitiated = !inWindow || message is TemplateMessage;
        if (businessInitiated && pass.DeferredUntil > now) return false;
        var gate = new SendClaim(
            async () =>
            {
                // Once the request may have left, the gate stays (at most once, never twice).
                switch (await acknowledgements.TakeReminderGateAsync(announcement.Id, reminder, employee.EmployeeId, pass.Owner, options.DeliveryRetention))
                {
                    case ReminderGate.TakenBefore:
                        metrics.DuplicatePrevented();
                        return false;
                    case ReminderGate.Acknowledged:
                        return false;
                }
                if (await confirmation.ConfirmAsync(pass, RedisKeys.ReminderGate(announcement.Id, reminder, employee.EmployeeId), employee, businessInitiated))
                    return true;
                await acknowledgements.ReleaseReminderGateAsync(announcement.Id, reminder, employee.EmployeeId, pass.Owner);
                return false;
            },
            () => acknowledgements.ReleaseReminderGateAsync(announcement.Id, reminder, employee.EmployeeId, pass.Owner));
        var result = await attempts.SendAsync(pass, message, gate, token);
        if (result is null) return false;
        if (result.Outcome == SendOutcome.Accepted)
        {
            await acknowledgements.CountReminderAsync(announcement.Id, employee.EmployeeId);
            return true;
        }
        // Failed, unknown, or out of attempts: this reminder is not tried again for this employee.
        LogReminderNotSent(announcement.Id, reminder, employee.EmployeeId, result.Outcome, result.ErrorCode);
        return false;
    }

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId}: reminder {Reminder} sent to {Reminded} employees; next reminder at {NextAt:O}")]
    private partial void LogReminded(string announcementId, int reminder, int reminded, DateTimeOffset? nextAt);

    [LoggerMessage(LogLevel.Warning, "Reminder {Reminder} of announcement {AnnouncementId} to {EmployeeId} not sent: {Outcome} (code {Code}); it is not retried")]
    private partial void LogReminderNotSent(string announcementId, int reminder, string employeeId, SendOutcome outcome, int? code);
}
