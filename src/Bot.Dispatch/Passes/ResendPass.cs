using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
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
    MessagingLimitGate limit,
    DeliveryPipeline pipeline,
    DispatchPause pause,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<ResendPass> logger)
{
    private readonly DispatcherOptions options = options.Value;

    public async Task RunAsync(AnnouncementQueue queue, string dispatcher, CancellationToken stopping)
    {
        foreach (var delivery in await queue.DueResendsAsync(options.BatchSize))
        {
            if (stopping.IsCancellationRequested) return;
            try
            {
                await ResendAsync(queue, delivery, $"{dispatcher}#resend", stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogResendFailed(ex, delivery.AnnouncementId, delivery.EmployeeId);
            }
        }
    }

    private async Task ResendAsync(AnnouncementQueue queue, DeliveryRef delivery, string owner, CancellationToken stopping)
    {
        var (announcementId, employeeId) = delivery;
        var announcement = await announcements.GetAsync(announcementId);
        var failed = await deliveries.GetAsync(announcementId, employeeId);
        var fallback = announcement is null ? null : senders.FallbackTemplateOf(announcement.EmployerId);
        var employee = announcement is null ? null : (await employees.GetManyAsync(announcement.EmployerId, [employeeId]))[0];
        if (announcement?.Message is null || fallback is null || employee is not { Status: EmployeeStatus.Active } ||
            failed is not { State: DeliveryState.Failed, Error: "131047", Form: DeliveryForm.Text })
        {
            await queue.ForgetResendAsync(delivery);
            return;
        }
        var sender = senders.ForEmployer(announcement.EmployerId);
        if (pause.IsPaused(sender.Id))
        {
            await queue.DeferResendAsync(delivery, pause.PausedUntil(sender.Id));
            return;
        }

        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var pass = new Pass(queue, announcement, sender, senders.PortfolioOf(sender), fallback, owner, () => true, lineStopped);
        var now = time.GetUtcNow();
        if (!await limit.ReachAsync(pass, employee, now))
        {
            await queue.DeferResendAsync(delivery, pass.DeferredUntil!.Value);
            return;
        }
        // The claim names the text it replaces: a late duplicate of that text's failure is then not taken for the re-send's.
        var claim = DeliveryRecord.Claimed(owner, now, DeliveryForm.Template) with { Error = failed.Reference };
        var claimed = await deliveries.SwapAsync(announcementId, employeeId, failed, claim);
        // Forgotten before the send: a crash from here on leaves a claim (settled as unknown), never a second re-send.
        await queue.ForgetResendAsync(delivery);
        if (!claimed) return;
        await pipeline.SendClaimedAsync(pass, employee, MessageComposer.Fallback(employee, announcement, fallback), claim,
            async () =>
            {
                // Not sent after all: back to the failed text, queued again.
                if (await deliveries.SwapAsync(announcementId, employeeId, claim, failed)) await queue.AddResendsAsync([delivery]);
            },
            lineStopped.Token);
    }

    [LoggerMessage(LogLevel.Warning, "Template re-send of delivery {AnnouncementId}/{EmployeeId} failed; it is looked at again")]
    private partial void LogResendFailed(Exception exception, string announcementId, string employeeId);
}
