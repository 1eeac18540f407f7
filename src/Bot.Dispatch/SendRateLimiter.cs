using System.Collections.Concurrent;
using System.Diagnostics;
using Bot.Core.Redis;
using Bot.WhatsAppClient;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// Caps every send from a WhatsApp number — announcements, template re-sends, bot replies, from any number of
/// dispatcher and webhook processes — at the number's <c>MessagesPerSecond</c>, which WhatsApp enforces per number.
/// <list type="bullet">
/// <item>Slots are handed out by Redis (<c>reserve-send-slots.lua</c>): one interval apart on Redis's clock, so no two
/// processes ever get the same moment. A process reserves a few at a time (about 50 ms worth) to keep Redis off the
/// path of each send; a slot it does not use is lost, which only ever sends less.</item>
/// <item>The pace is one message a second under the cap: a request held up on its way (a GC pause, a busy core)
/// then reaches WhatsApp next to the following one without making a one-second window go over.</item>
/// <item>Each caller waits for its own slot, in whole milliseconds, never spinning and never before the slot.</item>
/// </list>
/// </summary>
public sealed class SendRateLimiter(IDatabase db)
{
    private readonly ConcurrentDictionary<string, Pacer> pacers = new();
    private bool unbounded;

    /// <summary>A limiter that lets every send go at once: for benchmarks that measure everything but WhatsApp's cap.</summary>
    public static SendRateLimiter Unbounded(IDatabase db) => new(db) { unbounded = true };

    /// <summary>Waits for the next slot of <paramref name="sender"/>; cancelling gives up the wait (the slot stays spent).</summary>
    public Task AcquireAsync(Sender sender, CancellationToken cancellationToken)
    {
        if (unbounded) return Task.CompletedTask;
        var pacer = pacers.GetOrAdd(sender.Id, _ => new Pacer(db, sender));
        if (pacer.Rate != sender.MessagesPerSecond) pacer = pacers[sender.Id] = new Pacer(db, sender);
        return pacer.AcquireAsync(cancellationToken);
    }

    private sealed class Pacer(IDatabase db, Sender sender)
    {
        private readonly long intervalMicros = (long)(1_000_000 / Math.Max(sender.MessagesPerSecond - 1, sender.MessagesPerSecond * 0.9));
        private readonly int blockSize = Math.Clamp(sender.MessagesPerSecond / 20, 1, 50);
        private readonly SemaphoreSlim refill = new(1, 1);
        private readonly Lock gate = new();
        private long nextSlot;
        private int left;

        public int Rate => sender.MessagesPerSecond;

        public async Task AcquireAsync(CancellationToken cancellationToken)
        {
            long slot;
            while (!TryTake(out slot))
            {
                await refill.WaitAsync(cancellationToken);
                try
                {
                    if (Volatile.Read(ref left) == 0) await ReserveAsync();
                }
                finally
                {
                    refill.Release();
                }
            }
            // Timers count whole milliseconds and may fire up to one early: wait until the slot has come.
            while (Stopwatch.GetTimestamp() < slot)
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), slot);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(wait.TotalMilliseconds))), cancellationToken);
            }
        }

        private bool TryTake(out long slot)
        {
            lock (gate)
            {
                slot = nextSlot;
                if (left == 0) return false;
                left--;
                nextSlot += intervalMicros * Stopwatch.Frequency / 1_000_000;
                return true;
            }
        }

        private async Task ReserveAsync()
        {
            var delayMicros = (long)await db.ScriptEvaluateAsync(LuaScripts.ReserveSendSlots,
                [RedisKeys.SendSlots(sender.Id)], [intervalMicros, blockSize]);
            lock (gate)
            {
                nextSlot = Stopwatch.GetTimestamp() + delayMicros * Stopwatch.Frequency / 1_000_000;
                left = blockSize;
            }
        }
    }
}
