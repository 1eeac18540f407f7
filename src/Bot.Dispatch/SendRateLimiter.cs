using System.Diagnostics;
using System.Threading.RateLimiting;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// Caps sends at <c>WhatsApp:MessagesPerSecond</c> for the whole process (the limit is per business number) by
/// pacing: each permit gets its own time slot after the previous one and waits for it. Slots are absolute, so a
/// waiter that wakes late does not push the others back.
/// <list type="bullet">
/// <item>The pace is one permit a second under the cap: a request held up on its way (a GC pause, a busy core)
/// then reaches WhatsApp next to the following one without taking a one-second window over the cap.</item>
/// <item>A lull of up to 5 ms (a batch boundary, a late timer) is made up for, so the total stays N/rate; at
/// 1000/s that lets five permits out together, at 50/s none.</item>
/// </list>
/// A token bucket would not do: its timer rounds the period to whole milliseconds and refills per tick, and a
/// full bucket plus a refill lets two permits out together.
/// </summary>
public sealed class SendRateLimiter : RateLimiter
{
    private static readonly long CatchUp = Stopwatch.Frequency / 200;
    private readonly long interval;
    private readonly Lock gate = new();
    private long nextSlot;
    private long lastGrant = Stopwatch.GetTimestamp();

    public SendRateLimiter(IOptions<WhatsAppOptions> options)
    {
        var rate = options.Value.MessagesPerSecond;
        interval = (long)(Stopwatch.Frequency / Math.Max(rate - 1, rate * 0.9));
    }

    public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Interlocked.Read(ref lastGrant));

    public override RateLimiterStatistics? GetStatistics() => null;

    /// <summary>Waits for this permit's slot; cancelling gives up the wait (the slot stays spent).</summary>
    public ValueTask<RateLimitLease> AcquireAsync(CancellationToken cancellationToken) => AcquireAsync(1, cancellationToken);

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (nextSlot > now) return Lease.Refused;
            nextSlot = Math.Max(now - CatchUp, nextSlot) + interval * permitCount;
        }
        Interlocked.Exchange(ref lastGrant, Stopwatch.GetTimestamp());
        return Lease.Granted;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        long slot;
        lock (gate)
        {
            slot = Math.Max(Stopwatch.GetTimestamp() - CatchUp, nextSlot);
            nextSlot = slot + interval * permitCount;
        }
        // Timers count whole milliseconds and may fire up to one early: wait in whole milliseconds until the
        // slot has come, never spinning and never handing out a permit before its slot.
        while (Stopwatch.GetTimestamp() < slot)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), slot);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(wait.TotalMilliseconds))), cancellationToken);
        }
        Interlocked.Exchange(ref lastGrant, Stopwatch.GetTimestamp());
        return Lease.Granted;
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public static readonly Lease Granted = new(true);
        public static readonly Lease Refused = new(false);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
