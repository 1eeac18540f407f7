using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// Re-sends as the employer's fallback template the texts WhatsApp failed with 131047 (the employee was outside the
/// 24-hour window after all: the window is only known from messages this product saw). Exactly once per delivery:
/// the record moves from that failed text to a template claim by compare-and-set, and a template is never re-sent.
/// </summary>
public sealed partial class ResendPass(
    AnnouncementStore announcements,
    EmployeeStore employees,
    DeliveryStore deliveries,
    SenderDirectory senders,
    SendTiming timing,
    PassContentReader content,
    ClaimConfirmation confirmation,
    DeliveryPipeline pipeline,
    DispatchPause pause,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<ResendPass> logger)
{
    private readonly DispatcherOptions options = options.Value;

    /// <summary>How a re-send's claim owner ends: <c>{dispatcher}#resend</c>.</summary>
    public const string Owner = "#resend";

    public async Task RunAsync(AnnouncementQueue queue, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        foreach (var delivery in await queue.DueResendsAsync(options.BatchSize))
        {
            if (stopping.IsCancellationRequested || !stillHeld()) return;
            try
            {
                await ResendAsync(queue, delivery, dispatcher + Owner, stillHeld, stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogResendFailed(ex, delivery.AnnouncementId, delivery.EmployeeId);
            }
        }
    }

    private async Task ResendAsync(AnnouncementQueue queue, DeliveryRef delivery, string owner, Func<bool> stillHeld, CancellationToken stopping)
    {
        var (announcementId, employeeId) = delivery;
        var announcement = await announcements.GetAsync(announcementId);
        var failed = await deliveries.GetAsync(announcementId, employeeId);
        var now = time.GetUtcNow();
        if (failed is { State: DeliveryState.Claimed } claimed && claimed.Reference?.EndsWith(Owner, StringComparison.Ordinal) == true)
        {
            // A re-send whose dispatcher died between its request and its record: the request may be out.
            if (now - claimed.UpdatedAt > options.StaleClaimAfter)
                await deliveries.TransitionAsync(announcementId, employeeId, new DeliveryRecord(DeliveryState.Unknown, now, Error: "abandoned"), claimed);
            else
            {
                await queue.DeferResendAsync(delivery, claimed.UpdatedAt + options.StaleClaimAfter);
                return;
            }
        }
        var fallback = announcement is null ? null : senders.FallbackTemplateOf(announcement.EmployerId);
        var employee = announcement is null ? null : (await employees.GetManyAsync(announcement.EmployerId, [employeeId]))[0];
        if (announcement?.Message is null || fallback is null || employee is not { Status: EmployeeStatus.Active } ||
            failed is not { State: DeliveryState.Failed, Error: "131047", Form: DeliveryForm.Text })
        {
            await queue.ForgetResendAsync(delivery);
            return;
        }
        var sender = senders.ForEmployer(announcement.EmployerId, announcement.SenderId);
        if (pause.IsPaused(sender.Id, announcement.EmployerId))
        {
            await queue.DeferResendAsync(delivery, pause.PausedUntil(sender.Id));
            return;
        }
        // A template re-send is business-initiated like the announcement: quiet hours and local time hold it too.
        if (timing.HeldUntil(announcement, employee) is { } heldUntil)
        {
            await queue.DeferResendAsync(delivery, heldUntil);
            return;
        }

        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var pass = new Pass(queue, announcement, sender, senders.PortfolioOf(sender), fallback, owner, stillHeld, lineStopped, maxConcurrentSends: 1)
        {
            Content = await content.ReadAsync(announcement, sender, fallback),
        };
        // Kept queued for after a stale claim while it is sent: a crash from here on is settled by a later look.
        await queue.DeferResendAsync(delivery, now + options.StaleClaimAfter);
        var template = MessageComposer.Fallback(pass, employee);
        await pipeline.SendAndRecordAsync(pass, employee, template, Claim(pass, employee, failed, template.LanguageCode), lineStopped.Token);
        await pass.Unrecorded.DrainAsync();
        if (pass.DeferredUntil is { } limitFrees) await queue.DeferResendAsync(delivery, limitFrees);
        else if (await deliveries.GetAsync(announcementId, employeeId) is not { State: DeliveryState.Failed, Error: "131047", Form: DeliveryForm.Text })
            await queue.ForgetResendAsync(delivery);
        else await queue.DeferResendAsync(delivery, pause.IsPaused(sender.Id, announcement.EmployerId) ? pause.PausedUntil(sender.Id) : time.GetUtcNow());
    }

    /// <summary>
    /// The re-send's claim: the record moves from the failed text to a template claim by compare-and-set (naming the text
    /// it replaces, so a late duplicate of that text's failure is not taken for the re-send's), with the employee's place
    /// in the messaging limit; given back, it is the failed text again.
    /// </summary>
    private SendClaim Claim(Pass pass, Employee employee, DeliveryRecord failed, string language)
    {
        var (announcementId, employeeId) = (pass.Announcement.Id, employee.EmployeeId);
        DeliveryRecord? held = null;
        return new SendClaim(
            async () =>
            {
                var now = time.GetUtcNow();
                var claim = DeliveryRecord.Claimed(pass.Owner, now, DeliveryForm.Template) with { Error = failed.Reference };
                if (!await deliveries.SwapAsync(announcementId, employeeId, failed, claim)) return false;
                if (!await confirmation.ConfirmAsync(pass, RedisKeys.Delivery(announcementId, employeeId), employee, takesPlace: true))
                {
                    await deliveries.SwapAsync(announcementId, employeeId, claim, failed);
                    return false;
                }
                await deliveries.SetLanguageAsync(announcementId, employeeId, language);
                held = claim;
                return true;
            },
            async () =>
            {
                if (held is not { } claim) return true;
                held = null;
                return await deliveries.SwapAsync(announcementId, employeeId, claim, failed);
            });
    }

    [LoggerMessage(LogLevel.Warning, "Template re-send of delivery {AnnouncementId}/{EmployeeId} failed; it is looked at again")]
    private partial void LogResendFailed(Exception exception, string announcementId, string employeeId);
}
