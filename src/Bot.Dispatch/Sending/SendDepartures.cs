namespace Bot.Dispatch;

/// <summary>
/// How late after their send slots one number's requests leave, and whether one leaving now is late beyond
/// <paramref name="tolerance"/>: compared with the quickest of the last one to two <paramref name="period"/>s, not with a
/// fixed bound. A claim that always takes 30 ms (a slow disk's fsync, a replica's WAIT) delays every request alike,
/// which keeps them apart; only a request held back while the ones after it were not — a stall — would arrive together
/// with theirs. Timestamps in any one unit (<see cref="System.Diagnostics.Stopwatch"/> ticks in <see cref="SendRateLimiter"/>).
/// </summary>
public sealed class SendDepartures(long tolerance, long period)
{
    private long quickest = long.MaxValue;
    private long quickestBefore = long.MaxValue;
    private long since = long.MinValue;

    /// <summary>Records a request leaving at <paramref name="now"/> on the slot of <paramref name="slot"/>; true when it is on time.</summary>
    public bool OnTime(long slot, long now)
    {
        var late = now - slot;
        if (since == long.MinValue || now - since > period)
        {
            (quickestBefore, quickest, since) = (quickest, late, now);
        }
        else
        {
            quickest = Math.Min(quickest, late);
        }
        return late - Math.Min(quickest, quickestBefore) <= tolerance;
    }
}
