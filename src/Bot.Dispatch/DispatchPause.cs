using System.Collections.Concurrent;

namespace Bot.Dispatch;

/// <summary>
/// Stop-the-line state per sender, shared by all fan-outs of a process: after WhatsApp answers with an error that every
/// further send from that number would also get (token expired, account restricted, spam limit), nothing more is sent
/// from it until the pause ends. Other senders go on.
/// </summary>
public sealed class DispatchPause(TimeProvider time)
{
    private sealed record State(DateTimeOffset Until, string Reason);

    private readonly ConcurrentDictionary<string, State> pauses = new();

    public bool IsPaused(string senderId) => PausedUntil(senderId) > time.GetUtcNow();

    public DateTimeOffset PausedUntil(string senderId) => pauses.TryGetValue(senderId, out var state) ? state.Until : DateTimeOffset.MinValue;

    /// <summary>The error that started the sender's current (or last) pause, as shown on paused announcements.</summary>
    public string Reason(string senderId) => pauses.TryGetValue(senderId, out var state) ? state.Reason : "";

    /// <summary>Pauses the sender; true only for the call that started the pause, so the reason is logged once.</summary>
    public bool Trip(string senderId, TimeSpan duration, string why)
    {
        var now = time.GetUtcNow();
        var next = new State(now + duration, why);
        while (true)
        {
            if (!pauses.TryGetValue(senderId, out var current))
            {
                if (pauses.TryAdd(senderId, next)) return true;
                continue;
            }
            if (current.Until > now) return false;
            if (pauses.TryUpdate(senderId, next, current)) return true;
        }
    }

    /// <summary>Ends every pause now (an operator resumed: the token or account was fixed).</summary>
    public void Clear() => pauses.Clear();
}
