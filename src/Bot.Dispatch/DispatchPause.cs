using System.Collections.Concurrent;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// Pauses per sender, shared by all passes of a process. Two causes: an answer that every further send from the number
/// would also get (token expired, account restricted, spam limit, an unlisted code: <see cref="Trip"/>), and an outage —
/// answers that prove nothing (5xx, timeouts, lost connections) several times in a row (<see cref="Report"/>), which
/// would otherwise turn every employee of the announcement into an <c>unknown</c>. After either, one probe request at a
/// time tests WhatsApp by reading the sender's number (no message, so a probe never leaves anyone <c>unknown</c>); an
/// outage's pause doubles with every probe that finds WhatsApp still not answering. Other senders go on.
/// </summary>
/// <remarks>
/// A circuit breaker, hand-written rather than Polly's: Polly.Core's breaker opens on a failure ratio over a sampling
/// window, and at hundreds of sends a second the successes before an outage keep that ratio low while hundreds of
/// requests end <c>unknown</c>. The rule here is about consecutive answers, and an employer's resume lifts a pause for
/// that employer only.
/// </remarks>
public sealed partial class DispatchPause(IWhatsAppSender whatsApp, IOptions<DispatcherOptions> options, TimeProvider time, ILogger<DispatchPause> logger)
{
    private readonly DispatcherOptions options = options.Value;
    private readonly ConcurrentDictionary<string, Breaker> breakers = new(StringComparer.Ordinal);

    private sealed class Breaker
    {
        public readonly Lock Gate = new();
        public DateTimeOffset Until = DateTimeOffset.MinValue;
        public string Reason = "";
        public HashSet<string> LiftedFor = new(StringComparer.Ordinal);
        public int AmbiguousInARow;
        public int OutagePauses;
        public bool ProbeNeeded;
        public TaskCompletionSource? ProbeInFlight;
    }

    private Breaker Of(string senderId) => breakers.GetOrAdd(senderId, _ => new Breaker());

    public bool IsPaused(string senderId, string employerId)
    {
        if (!breakers.TryGetValue(senderId, out var breaker)) return false;
        lock (breaker.Gate) return PausedFor(breaker, employerId);
    }

    public DateTimeOffset PausedUntil(string senderId) =>
        breakers.TryGetValue(senderId, out var breaker) ? breaker.Until : DateTimeOffset.MinValue;

    /// <summary>The error that started the sender's current (or last) pause, as shown on paused announcements.</summary>
    public string Reason(string senderId) => breakers.TryGetValue(senderId, out var breaker) ? breaker.Reason : "";

    /// <summary>
    /// Asked right before a request: false while the sender is paused for this employer. The first send after a pause
    /// probes WhatsApp first, while the other sends wait for its answer rather than all testing WhatsApp at once.
    /// </summary>
    public async ValueTask<bool> AdmitAsync(Sender sender, string employerId, CancellationToken token)
    {
        if (!breakers.TryGetValue(sender.Id, out var breaker)) return true;
        while (true)
        {
            Task probe;
            var mine = false;
            lock (breaker.Gate)
            {
                if (PausedFor(breaker, employerId)) return false;
                if (!breaker.ProbeNeeded) return true;
                if (breaker.ProbeInFlight is null)
                {
                    breaker.ProbeInFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    mine = true;
                }
                probe = breaker.ProbeInFlight.Task;
            }
            if (mine) await ProbeAsync(sender, breaker);
            else await probe.WaitAsync(token);
        }
    }

    private async Task ProbeAsync(Sender sender, Breaker breaker)
    {
        SendOutcome outcome;
        try
        {
            outcome = await whatsApp.ProbeAsync(sender, CancellationToken.None);
        }
        catch (Exception)
        {
            outcome = SendOutcome.Unknown;
        }
        lock (breaker.Gate)
        {
            switch (outcome)
            {
                case SendOutcome.Accepted:
                    breaker.ProbeNeeded = false;
                    LogResumed(sender.Id, breaker.Reason);
                    break;
                case SendOutcome.Unknown:
                    PauseForOutage(breaker, breaker.Reason);
                    break;
                default:
                    PauseUntil(breaker, time.GetUtcNow() + options.StopTheLinePause, breaker.Reason);
                    break;
            }
            breaker.ProbeInFlight!.TrySetResult();
            breaker.ProbeInFlight = null;
        }
    }

    /// <summary>
    /// What a request got. An answer that proves nothing counts towards an outage; true when this one paused the sender
    /// for it (logged and shown by the caller).
    /// </summary>
    public bool Report(string senderId, SendOutcome outcome, string? error)
    {
        var breaker = Of(senderId);
        lock (breaker.Gate)
        {
            if (outcome != SendOutcome.Unknown)
            {
                breaker.AmbiguousInARow = 0;
                if (outcome == SendOutcome.Accepted) breaker.OutagePauses = 0;
                return false;
            }
            if (++breaker.AmbiguousInARow < options.UnknownsBeforePause || PausedFor(breaker, null)) return false;
            PauseForOutage(breaker, $"WhatsApp did not answer ({breaker.AmbiguousInARow} in a row): {error}");
            return true;
        }
    }

    /// <summary>Pauses the sender for an answer about it (not about one employee); true only for the call that started the pause.</summary>
    public bool Trip(string senderId, TimeSpan duration, string why)
    {
        var breaker = Of(senderId);
        lock (breaker.Gate)
        {
            if (PausedFor(breaker, null)) return false;
            PauseUntil(breaker, time.GetUtcNow() + duration, why);
            return true;
        }
    }

    /// <summary>
    /// An employer resumed an announcement sending from the sender (the token or account was fixed): its pause ends now
    /// for that employer; other employers on the number stay paused until it ends or they resume too.
    /// </summary>
    public void Lift(string senderId, string employerId)
    {
        if (!breakers.TryGetValue(senderId, out var breaker)) return;
        lock (breaker.Gate) breaker.LiftedFor.Add(employerId);
    }

    private bool PausedFor(Breaker breaker, string? employerId) =>
        breaker.Until > time.GetUtcNow() && (employerId is null || !breaker.LiftedFor.Contains(employerId));

    private void PauseForOutage(Breaker breaker, string reason)
    {
        var pause = options.OutagePause * Math.Pow(2, Math.Min(breaker.OutagePauses++, 16));
        PauseUntil(breaker, time.GetUtcNow() + (pause < options.OutagePauseMax ? pause : options.OutagePauseMax), reason);
    }

    private static void PauseUntil(Breaker breaker, DateTimeOffset until, string reason)
    {
        breaker.Until = until;
        breaker.Reason = reason;
        breaker.LiftedFor = new(StringComparer.Ordinal);
        breaker.ProbeNeeded = true;
    }

    [LoggerMessage(LogLevel.Information, "WhatsApp answers sender {Sender} again: sending resumes (it was paused: {Reason})")]
    private partial void LogResumed(string sender, string reason);
}
