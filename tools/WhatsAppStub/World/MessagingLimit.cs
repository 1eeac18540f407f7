namespace Bot.Tools.WhatsAppStub.World;

/// <summary>
/// WhatsApp's messaging limit: at most <c>limit</c> unique recipients of business-initiated messages in a moving
/// window, shared by every number of the portfolio (here: every sender of the stub). A recipient reached within the
/// window may be messaged again; a new one beyond the limit is not.
/// </summary>
internal sealed class MessagingLimit(int limit, TimeSpan window)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, DateTimeOffset> lastReached = new(StringComparer.Ordinal);
    // Every reach in time order, so expiry pops from the front instead of scanning all recipients.
    private readonly Queue<(string WaId, DateTimeOffset At)> reaches = new();

    /// <summary>Records a business-initiated message to <paramref name="waId"/>; false when it is over the limit.</summary>
    public bool TryReach(string waId, DateTimeOffset now)
    {
        lock (gate)
        {
            while (reaches.TryPeek(out var oldest) && now - oldest.At >= window)
            {
                reaches.Dequeue();
                // Only the recipient's latest reach ends its place in the window.
                if (lastReached.TryGetValue(oldest.WaId, out var at) && at == oldest.At) lastReached.Remove(oldest.WaId);
            }

            if (!lastReached.ContainsKey(waId) && lastReached.Count >= limit) return false;
            lastReached[waId] = now;
            reaches.Enqueue((waId, now));
            return true;
        }
    }
}
