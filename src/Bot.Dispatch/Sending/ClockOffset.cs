namespace Bot.Dispatch;

/// <summary>
/// Redis's clock (µs) minus this process's (<see cref="System.Diagnostics.Stopwatch"/> µs), from the recent answer with the
/// shortest round trip: Redis read its clock somewhere within the round trip, so the middle of it is off by at most half.
/// </summary>
internal sealed class ClockOffset
{
    public const int Warmup = 4;
    private const int Samples = 32;
    private readonly (long Offset, long RoundTrip)[] recent = new (long, long)[Samples];
    private readonly Lock gate = new();
    private int count;

    public int Count => Volatile.Read(ref count);

    public long Observe(long redisNow, long sent, long received)
    {
        var sentMicros = SendRateLimiter.ToMicros(sent);
        var receivedMicros = SendRateLimiter.ToMicros(received);
        lock (gate)
        {
            recent[count++ % Samples] = (redisNow - (sentMicros + receivedMicros) / 2, receivedMicros - sentMicros);
            return recent.Take(Math.Min(count, Samples)).MinBy(s => s.RoundTrip).Offset;
        }
    }
}
