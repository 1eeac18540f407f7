namespace Bot.Dispatch;

/// <summary>
/// Stop-the-line state shared by all fan-outs of a process: after WhatsApp answers with an error that every
/// further send would also get (token expired, account restricted, spam limit), nothing is claimed until
/// the pause ends.
/// </summary>
public sealed class DispatchPause(TimeProvider time)
{
    private long pausedUntilMs;
    private volatile string reason = "";

    public DateTimeOffset PausedUntil => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref pausedUntilMs));

    public bool IsPaused => PausedUntil > time.GetUtcNow();

    /// <summary>The error that started the current (or last) pause, as shown on paused announcements.</summary>
    public string Reason => reason;

    /// <summary>Pauses dispatching; true only for the call that started the pause, so the reason is logged once.</summary>
    public bool Trip(TimeSpan duration, string why)
    {
        var now = time.GetUtcNow();
        var until = (now + duration).ToUnixTimeMilliseconds();
        while (true)
        {
            var current = Interlocked.Read(ref pausedUntilMs);
            if (current > now.ToUnixTimeMilliseconds()) return false;
            if (Interlocked.CompareExchange(ref pausedUntilMs, until, current) != current) continue;
            reason = why;
            return true;
        }
    }

    /// <summary>Ends the pause now (an operator resumed: the token or account was fixed).</summary>
    public void Clear() => Interlocked.Exchange(ref pausedUntilMs, 0);
}
