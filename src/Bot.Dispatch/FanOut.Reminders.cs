using System.Runtime.CompilerServices;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// Required acknowledgement: the "Got it" button on every send, and the reminder passes. An announcement that reminds
/// is queued again when its sending completes, due <c>remindAfter</c> later; the dispatcher that claims it then runs
/// reminder n (stored on the announcement) under the same lease, lock, rate lanes and messaging limit as a fan-out,
/// and queues it again for reminder n + 1 another <c>remindAfter</c> after this pass finished, until
/// <c>maxReminders</c> went. Each reminder is gated per employee by its own SET NX key taken right before the send,
/// together with a look at the acknowledgements: at most once per employee, none after the tap.
/// </summary>
public sealed partial class FanOut
{
    /// <summary>The quick-reply payloads a message of this announcement carries: the acknowledgement button's, or none.</summary>
    private static string[]? AckPayloads(Announcement announcement) =>
        announcement.Acknowledgement is null ? null : [AcknowledgementPolicy.ButtonId(announcement.Id)];

    /// <summary>A free-form message: text, or text with the "Got it" button when the announcement asks for acknowledgement.</summary>
    private static OutgoingMessage TextOrButtons(string to, Announcement announcement, string text, string callbackData) =>
        announcement.Acknowledgement is null
            ? new TextMessage(to, text, callbackData)
            : new ButtonsMessage(to, text, [new ReplyButton(AcknowledgementPolicy.ButtonId(announcement.Id), AcknowledgementPolicy.ButtonTitle)], callbackData);

    /// <summary>The hash fields (set with the status) and queue due time of the first reminder, when the announcement reminds.</summary>
    private (HashEntry[] Fields, DateTimeOffset? At) FirstReminder(Announcement announcement)
    {
        if (announcement.Acknowledgement is not { Reminds: true } policy) return ([], null);
        var at = time.GetUtcNow() + policy.RemindAfter!.Value;
        return (AcknowledgementStore.ReminderFields(1, at), at);
    }

    private async Task RemindAsync(AnnouncementQueue queue, Announcement announcement, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        var id = announcement.Id;
        var policy = announcement.Acknowledgement!;
        var reminder = announcement.AcknowledgementProgress?.NextReminder ?? 0;
        if (reminder < 1 || reminder > policy.MaxReminders)
        {
            await queue.RemoveAsync(id, dispatcher);
            return;
        }
        var sender = senders.ForEmployer(announcement.EmployerId);
        if (pause.IsPaused(sender.Id))
        {
            // The status stays completed: a pause is about the sender, and the reminder simply waits for its end.
            await queue.RequeueAsync(id, dispatcher, pause.PausedUntil(sender.Id));
            return;
        }

        var owner = $"{dispatcher}#{Interlocked.Increment(ref passes)}";
        var total = await announcements.EnsureTargetsAsync(announcement, employees.AudienceAsync(announcement.EmployerId, announcement.Audience), owner);
        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lease = new LeaseKeeper(queue, id, dispatcher, lineStopped);
        var keeping = KeepLeaseAsync(lease);
        var pass = new Pass(queue, announcement, sender, senders.PortfolioOf(sender), senders.FallbackTemplateOf(announcement.EmployerId),
            owner, () => stillHeld() && !lease.Lost, lineStopped);
        var reminded = 0;
        try
        {
            await Parallel.ForEachAsync(ToRemindAsync(pass, total, lineStopped.Token),
                new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrentSends, CancellationToken = lineStopped.Token },
                async (employee, token) =>
                {
                    if (await RemindOneAsync(pass, reminder, employee, token)) Interlocked.Increment(ref reminded);
                });
        }
        catch (OperationCanceledException)
        {
            // Shutdown, a stop-the-line error or a lost lease: gates of sends that did not start were given back or never taken.
        }
        finally
        {
            await lease.StopAsync(keeping);
        }

        if (lease.Lost) return;
        if (pause.IsPaused(sender.Id))
        {
            await queue.RequeueAsync(id, dispatcher, pause.PausedUntil(sender.Id));
            return;
        }
        if (pass.Offset < total)
        {
            await queue.HandBackAsync(id, dispatcher);
            return;
        }
        if (pass.HeldUntil is { } heldUntil && (pass.DeferredUntil is null || heldUntil < pass.DeferredUntil))
        {
            // Some employees are in their quiet hours: this reminder goes on when the first of them leaves them.
            await queue.RequeueAsync(id, dispatcher, heldUntil);
            return;
        }
        if (pass.DeferredUntil is { } resumesAt)
        {
            // Over the messaging limit: this reminder goes on when places free; the gates skip whoever got it.
            await queue.RequeueAsync(id, dispatcher, resumesAt);
            return;
        }
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
            var people = employees.GetManyAsync(announcement.EmployerId, employeeIds, pass.Sender.Id);
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
        var sender = pass.Sender;
        var now = time.GetUtcNow();
        var inWindow = employee.InWindow(now, senders.CustomerServiceWindow);
        var message = ReminderMessage(pass, employee, inWindow, reminder);
        // A reminder outside the window is business-initiated like the announcement: it takes a place in the messaging limit.
        if ((!inWindow || message is TemplateMessage) && !await ReachAsync(pass, employee, now)) return false;
        switch (await acknowledgements.TakeReminderGateAsync(announcement.Id, reminder, employee.EmployeeId, pass.Owner, options.DeliveryRetention))
        {
            case ReminderGate.TakenBefore:
                metrics.DuplicatePrevented();
                return false;
            case ReminderGate.Acknowledged:
                return false;
        }

        Task GiveBack() => acknowledgements.ReleaseReminderGateAsync(announcement.Id, reminder, employee.EmployeeId, pass.Owner);
        for (var attempt = 1; ; attempt++)
        {
            SendResult result;
            try
            {
                await rateLimiter.AcquireAsync(sender, pass.Lane, token);
                if (pause.IsPaused(sender.Id))
                {
                    await GiveBack();
                    await pass.LineStopped.CancelAsync();
                    return false;
                }
                // Not cancellable: once the request may have left, the gate stays (at most once, never twice).
                result = await whatsApp.SendAsync(sender, message, CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                await GiveBack();
                return false;
            }
            metrics.Sent(result.Outcome.ToString());
            switch (result.Outcome)
            {
                case SendOutcome.Accepted:
                    await acknowledgements.CountReminderAsync(announcement.Id, employee.EmployeeId);
                    return true;
                case SendOutcome.StopTheLine:
                    await GiveBack();
                    if (pause.Trip(sender.Id, options.StopTheLinePause, $"{result.ErrorCode}: {result.Error}"))
                        LogStopTheLine(result.ErrorCode, result.Error, sender.Id, options.StopTheLinePause, announcement.Id);
                    await pass.LineStopped.CancelAsync();
                    return false;
                case SendOutcome.Retryable when attempt < options.MaxSendAttempts:
                    metrics.Retried();
                    try
                    {
                        await Task.Delay(result.RetryDelay(attempt, options.RetryBaseDelay, options.RetryMaxDelay), time, token);
                    }
                    catch (OperationCanceledException)
                    {
                        await GiveBack();
                        return false;
                    }
                    break;
                default:
                    // Failed, unknown, or out of attempts: this reminder is not tried again for this employee.
                    LogReminderNotSent(announcement.Id, reminder, employee.EmployeeId, result.Outcome, result.ErrorCode);
                    return false;
            }
        }
    }

    /// <summary>
    /// The announcement again, "Reminder: " before a text (a template goes as approved), with the same button. Its callback
    /// data is not a delivery reference, so its status webhooks leave the announcement's delivery record alone.
    /// </summary>
    private static OutgoingMessage ReminderMessage(Pass pass, Employee employee, bool inWindow, int reminder)
    {
        var announcement = pass.Announcement;
        var callbackData = $"{new DeliveryRef(announcement.Id, employee.EmployeeId).Format()}:r{reminder}";
        if (announcement.Template is { } t)
            return new TemplateMessage(employee.Phone, t.Name, t.Language, t.Parameters, callbackData, AckPayloads(announcement));
        var text = AcknowledgementPolicy.ReminderPrefix + announcement.Message;
        if (!inWindow && pass.Fallback is { } fallback)
            return new TemplateMessage(employee.Phone, fallback.Name, fallback.Language, [text], callbackData, AckPayloads(announcement));
        return TextOrButtons(employee.Phone, announcement, text, callbackData);
    }

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId}: reminder {Reminder} sent to {Reminded} employees; next reminder at {NextAt:O}")]
    private partial void LogReminded(string announcementId, int reminder, int reminded, DateTimeOffset? nextAt);

    [LoggerMessage(LogLevel.Warning, "Reminder {Reminder} of announcement {AnnouncementId} to {EmployeeId} not sent: {Outcome} (code {Code}); it is not retried")]
    private partial void LogReminderNotSent(string announcementId, int reminder, string employeeId, SendOutcome outcome, int? code);
}
