using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// One message's way to WhatsApp, shared by deliveries, reminders and re-sends: a send permit, the request, the
/// answer classified, retries of what provably was not accepted. What the caller took before (a delivery claim, a
/// reminder gate) is given back whenever the message provably did not go out.
/// </summary>
public sealed partial class SendAttempts(
    IWhatsAppSender whatsApp,
    ISendRateLimiter rateLimiter,
    DispatchPause pause,
    DispatcherMetrics metrics,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<SendAttempts> logger)
{
    private readonly DispatcherOptions options = options.Value;

    /// <summary>
    /// Sends until an answer decides the message: accepted, permanent, unknown, or retryable with no attempt left. Null
    /// when it did not go out (<paramref name="giveBack"/> was called) or is no longer the caller's to send.
    /// </summary>
    /// <param name="giveBack">Undoes what the caller took, for a message known not to have gone out.</param>
    /// <param name="stillOurs">Asked before each retry: a status webhook, or a dispatcher that took the announcement over, may have settled it meanwhile.</param>
    public async Task<SendResult?> SendAsync(Pass pass, OutgoingMessage message, Func<Task> giveBack, Func<Task<bool>>? stillOurs, CancellationToken token)
    {
        var sender = pass.Sender;
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 1 && stillOurs is not null && !await stillOurs()) return null;
            SendResult result;
            try
            {
                // The permit is the last step before the request, so requests reach WhatsApp at the capped
                // rate even when Redis or this process stalls for a moment.
                await rateLimiter.AcquireAsync(sender, pass.Lane, token);
                if (pause.IsPaused(sender.Id))
                {
                    // Another send hit a stop-the-line error: this one would fail the same way.
                    await giveBack();
                    await pass.LineStopped.CancelAsync();
                    return null;
                }
                // Not cancellable: once a request may have left, its answer decides the message's state.
                result = await whatsApp.SendAsync(sender, message, CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                await giveBack();
                return null;
            }
            metrics.Sent(result.Outcome.ToString());
            switch (result.Outcome)
            {
                case SendOutcome.StopTheLine:
                    // Not accepted: give it back so the resumed pass sends it.
                    await giveBack();
                    if (pause.Trip(sender.Id, options.StopTheLinePause, $"{result.ErrorCode}: {result.Error}"))
                        LogStopTheLine(result.ErrorCode, result.Error, sender.Id, options.StopTheLinePause, pass.Announcement.Id);
                    await pass.LineStopped.CancelAsync();
                    return null;
                case SendOutcome.Retryable when attempt < options.MaxSendAttempts:
                    metrics.Retried();
                    try
                    {
                        await Task.Delay(result.RetryDelay(attempt, options.RetryBaseDelay, options.RetryMaxDelay), time, token);
                    }
                    catch (OperationCanceledException)
                    {
                        await giveBack();
                        return null;
                    }
                    break;
                default:
                    return result;
            }
        }
    }

    [LoggerMessage(LogLevel.Error, "WhatsApp answered error {Code} ({Error}): dispatching from sender {Sender} is paused for {Pause}; announcement {AnnouncementId} stays resumable")]
    private partial void LogStopTheLine(int? code, string? error, string sender, TimeSpan pause, string announcementId);
}
