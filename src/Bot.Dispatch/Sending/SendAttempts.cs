using Bot.Core.Templates;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// What a send holds while its request may be out: taken right before the request (a delivery's SET NX, a re-send's swap,
/// a reminder's gate) and given back whenever the request provably did not leave or was refused.
/// </summary>
/// <param name="TakeAsync">Takes it; false when it is another's (sent, settled, or being sent elsewhere).</param>
/// <param name="GiveBackAsync">
/// Undoes the take, for a message known not to have been accepted; false when it was no longer this send's to give back:
/// another pass settled it <c>unknown</c> (its request may have left) after this one stalled past its lease.
/// </param>
public sealed record SendClaim(Func<Task<bool>> TakeAsync, Func<Task<bool>> GiveBackAsync);

/// <summary>
/// One message's way to WhatsApp, shared by deliveries, reminders and re-sends: a send permit, the sender's pause, the
/// claim, the request, the answer classified, retries of what provably was not accepted.
/// </summary>
/// <remarks>
/// The claim is taken only once the permit is granted and the sender admits the send, and given back before any wait:
/// a delivery waiting for its slot, a retry delay, a probe or a lock is nobody's, so a pass that stops there — its
/// process stalled, killed or alive — leaves it pending for the next pass. Only a claim whose request may be out can
/// end <c>unknown</c>.
/// </remarks>
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
    /// Sends until an answer decides the message: accepted, failed for this recipient, unknown. Null when it did not go
    /// out (nothing is held then) or is another's to send.
    /// </summary>
    public async Task<SendResult?> SendAsync(Pass pass, OutgoingMessage message, SendClaim claim, CancellationToken token)
    {
        var sender = pass.Sender;
        var attempt = 1;
        var missedSlot = false;
        while (true)
        {
            SendPermit permit;
            bool admitted;
            try
            {
                // The permit comes before the claim, so a send waiting for its slot holds nothing; the claim's own wait
                // is checked against the slot right before the request (LeavesOnTime), so requests reach WhatsApp at
                // the capped rate even when Redis or this process stalls for a moment.
                permit = await rateLimiter.AcquireAsync(sender, pass.Lane, token);
                admitted = await pause.AdmitAsync(sender, pass.Announcement.EmployerId, token);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            if (!admitted)
            {
                // Another send stopped the line: this one would meet the same.
                await pass.LineStopped.CancelAsync();
                return null;
            }

            if (token.IsCancellationRequested || !pass.MayGoOn() || !await claim.TakeAsync()) return null;
            if (!rateLimiter.LeavesOnTime(sender, permit) && !missedSlot)
            {
                // Its claim took longer than the sends around it (a Redis stall): leaving now it would go out together
                // with the requests of the next slots. Given back (it did not leave), and sent on the next permit — once:
                // late again, it goes, so a process too busy to keep pace cannot spend its time giving claims back.
                // Unless another pass settled it unknown meanwhile (this process stalled past its lease): that promised
                // a request may have left, so it leaves, late.
                missedSlot = true;
                if (await claim.GiveBackAsync())
                {
                    metrics.SlotMissed();
                    continue;
                }
            }
            // Not cancellable: once a request may have left, its answer decides the message's state.
            var result = await whatsApp.SendAsync(sender, message, CancellationToken.None);
            if (pause.Report(sender.Id, result.Outcome, result.Error))
            {
                // This one and those in flight end unknown; nothing more leaves until a probe finds WhatsApp answering.
                LogOutage(sender.Id, pause.Reason(sender.Id), pause.PausedUntil(sender.Id), pass.Announcement.Id);
                await pass.LineStopped.CancelAsync();
            }

            metrics.Sent(result.Outcome.ToString());
            switch (result.Outcome)
            {
                case SendOutcome.Retryable when attempt >= options.MaxSendAttempts && result.ErrorCode == PairRateLimit:
                    // The pair rate limit is about one recipient: out of attempts, that employee's delivery fails.
                    return result with { Outcome = SendOutcome.Permanent };
                case SendOutcome.Retryable when attempt < options.MaxSendAttempts:
                    // Not accepted: nothing is held while waiting, so a pass that stops meanwhile leaves it pending.
                    if (!await claim.GiveBackAsync()) return Settled(result);
                    metrics.Retried();
                    attempt++;
                    try
                    {
                        await Task.Delay(result.RetryDelay(attempt, options.RetryBaseDelay, options.RetryMaxDelay), time, token);
                    }
                    catch (OperationCanceledException)
                    {
                        return null;
                    }
                    break;
                case SendOutcome.Retryable or SendOutcome.StopTheLine:
                    // About the number, not the employee (a rate limit that does not end counts as one): given back, and
                    // the sender pauses; the resumed pass sends it.
                    var givenBack = await claim.GiveBackAsync();
                    StopTheLine(pass, $"{result.ErrorCode}: {result.Error}");
                    await pass.LineStopped.CancelAsync();
                    return givenBack ? null : Settled(result);
                case SendOutcome.TemplateRefused:
                    var templateGivenBack = await claim.GiveBackAsync();
                    // Named as a template pause, so the template's approval webhook resumes it.
                    var status = result.ErrorCode switch
                    {
                        132015 => TemplateStatus.Paused,
                        132016 => TemplateStatus.Disabled,
                        _ => $"refused ({result.ErrorCode}: {result.Error})",
                    };
                    if (pass.Stop(TemplateAvailability.Reason(MessageComposer.TemplateOf(message)?.Name ?? "", status), time.GetUtcNow() + options.StopTheLinePause))
                        LogTemplateRefused(result.ErrorCode, result.Error, pass.Announcement.Id);
                    await pass.LineStopped.CancelAsync();
                    return templateGivenBack ? null : Settled(result);
                default:
                    return result;
            }
        }
    }

    private const int PairRateLimit = 131056;

    /// <summary>
    /// A refused request whose claim another pass settled <c>unknown</c> meanwhile (this one stalled past its lease): it
    /// did reach WhatsApp, so it ends as that pass said, and its record frees what the send held.
    /// </summary>
    private static SendResult Settled(SendResult refused) => refused with { Outcome = SendOutcome.Unknown };

    private void StopTheLine(Pass pass, string why)
    {
        if (pause.Trip(pass.Sender.Id, options.StopTheLinePause, why))
            LogStopTheLine(why, pass.Sender.Id, options.StopTheLinePause, pass.Announcement.Id);
    }

    [LoggerMessage(LogLevel.Error, "WhatsApp answered {Error}: dispatching from sender {Sender} is paused for {Pause}; announcement {AnnouncementId} stays resumable")]
    private partial void LogStopTheLine(string error, string sender, TimeSpan pause, string announcementId);

    [LoggerMessage(LogLevel.Error, "Sender {Sender} paused until {Until:O}: {Reason}; announcement {AnnouncementId} goes on after a probe request succeeds")]
    private partial void LogOutage(string sender, string reason, DateTimeOffset until, string announcementId);

    [LoggerMessage(LogLevel.Error, "WhatsApp refused the template of announcement {AnnouncementId} ({Code}: {Error}); it is paused, nobody failed")]
    private partial void LogTemplateRefused(int? code, string? error, string announcementId);
}
