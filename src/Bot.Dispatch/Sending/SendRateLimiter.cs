using System.Collections.Concurrent;
using System.Diagnostics;
using Bot.Core.Redis;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// Caps every send from a WhatsApp number — announcements, template re-sends, bot replies, from any number of
/// dispatcher and webhook processes — at the number's <c>MessagesPerSecond</c>, which WhatsApp enforces per number,
/// and shares that capacity fairly between whoever is waiting.
/// <list type="bullet">
/// <item>Slots are handed out by Redis (<c>reserve-send-slots.lua</c>): one interval apart on Redis's clock, so no two
/// processes ever get the same moment. A process reserves a few at a time (about 50 ms worth) to keep Redis off the
/// path of each send, and asks for the next few once past half of them, so a busy number's blocks follow each other without
/// a gap; a slot it does not use is lost, which only ever sends less.</item>
/// <item>Redis's clock is mapped to this process's the way NTP does it: each answer gives an offset good to half its
/// round trip, and the best of the recent ones is used. Reading "the slot is in 20 ms" from an answer that arrived
/// late (a busy core, a GC pause) would move this process's slots onto the next process's.</item>
/// <item>The pace leaves room under the cap (<see cref="IntervalMicros"/>): slots made up late and a request held up on
/// its way (a GC pause, a busy core, the network) then reach WhatsApp next to the following ones without making a
/// one-second window go over the cap's 2 %. Slots a stalled process finds more than 20 ms in the past are dropped,
/// not let out together.</item>
/// <item>A slot is for a request leaving then: one whose claim (taken after the slot, so a send waiting for its slot
/// holds nothing) was held up more than 20 ms longer than the number's other recent requests is sent on a later slot
/// (<see cref="LeavesOnTime"/>; see <see cref="SendAttempts"/>), rather than together with the requests of the slots after it.</item>
/// <item>Fair: one pump per sender waits for each slot (in whole milliseconds, never before it) and only then picks who
/// gets it — urgent lanes first, then employers in turn and each employer's announcements in turn. A one-employee
/// "send now" next to five 20,000-employee fan-outs waits a few slots, not for their queues to drain.</item>
/// </list>
/// </summary>
public sealed partial class SendRateLimiter(IDatabase db, ILogger<SendRateLimiter> logger) : ISendRateLimiter
{
    private readonly IDatabase db = db;
    private readonly ConcurrentDictionary<string, Pacer> pacers = new();
    private readonly ClockOffset clock = new();

    /// <summary>Waits for <paramref name="lane"/>'s turn at the next slot of <paramref name="sender"/>; cancelling gives up the wait.</summary>
    public Task<SendPermit> AcquireAsync(Sender sender, SendLane lane, CancellationToken cancellationToken) =>
        PacerOf(sender).AcquireAsync(lane, cancellationToken);

    /// <inheritdoc />
    public bool LeavesOnTime(Sender sender, SendPermit permit) => PacerOf(sender).LeavesOnTime(permit);

    private Pacer PacerOf(Sender sender)
    {
        var pacer = pacers.GetOrAdd(sender.Id, _ => new Pacer(this, sender));
        return pacer.Rate == sender.MessagesPerSecond ? pacer : pacers[sender.Id] = new Pacer(this, sender);
    }

    /// <summary>
    /// How late a slot may still be used. Late slots go out back to back, so up to this much of a second's sends can
    /// land in the next second's window: 20 ms is 2 % of a second. Less drops slots every time a busy core delays the pump.
    /// </summary>
    private static readonly long CatchUp = Stopwatch.Frequency / 50;

    /// <summary>
    /// Time between two slots of a number capped at <paramref name="messagesPerSecond"/>: two messages a second under
    /// the cap, or 0.5 % where that is less (high caps, whose 2 % allowance is many messages), and never more than 10 %.
    /// A one-second window then holds one more than the cap's 2 % only if its requests were squeezed together by what the
    /// spare slots span, less the 20 ms of <see cref="CatchUp"/>: 42 ms at 50/s (paced at 48/s), 18 ms at 80/s (78/s),
    /// 5 ms at 1,000/s (995/s, where a window has 20 messages of allowance).
    /// </summary>
    private static long IntervalMicros(int messagesPerSecond) =>
        (long)(1_000_000 / Math.Max(Math.Min(messagesPerSecond - 2, messagesPerSecond * 0.995), messagesPerSecond * 0.9));

    private sealed class Pacer(SendRateLimiter limiter, Sender sender)
    {
        private readonly long intervalMicros = IntervalMicros(sender.MessagesPerSecond);
        private readonly int blockSize = Math.Clamp(sender.MessagesPerSecond / 20, 1, 50);
        private readonly Lock gate = new();
        private readonly FairQueue waiting = new();
        private bool pumping;
        private long nextSlot;
        private int left;
        private Task<long>? ahead;
        private readonly SendDepartures departures = new(tolerance: CatchUp, period: Stopwatch.Frequency / 2);

        public int Rate => sender.MessagesPerSecond;

        public async Task<SendPermit> AcquireAsync(SendLane lane, CancellationToken cancellationToken)
        {
            var turn = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                waiting.Enqueue(lane, turn);
                if (!pumping)
                {
                    pumping = true;
                    _ = Task.Run(PumpAsync, CancellationToken.None);
                }
            }
            using (cancellationToken.UnsafeRegister(static (turn, token) => ((TaskCompletionSource<long>)turn!).TrySetCanceled(token), turn))
                return new SendPermit(await turn.Task);
        }

        /// <summary>True when a request may leave now on <paramref name="permit"/> (<see cref="SendDepartures"/>).</summary>
        public bool LeavesOnTime(SendPermit permit)
        {
            lock (gate) return departures.OnTime(permit.Slot, Stopwatch.GetTimestamp());
        }

        /// <summary>Hands out slots while anyone waits; each slot goes to whoever's turn it is when the slot comes.</summary>
        private async Task PumpAsync()
        {
            while (true)
            {
                lock (gate)
                {
                    if (waiting.IsEmpty)
                    {
                        pumping = false;
                        return;
                    }
                }
                try
                {
                    var slot = await NextSlotAsync();
                    // A process that stalled (a busy core, a GC pause, start-up) finds its slots in the past: letting them
                    // all out at once would be a burst over the cap. Up to 20 ms late is made up for; older slots are dropped.
                    if (Stopwatch.GetTimestamp() - slot > CatchUp) continue;
                    // Timers count whole milliseconds and may fire up to one early: wait until the slot has come.
                    while (Stopwatch.GetTimestamp() < slot)
                    {
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), slot);
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(wait.TotalMilliseconds))));
                    }
                    lock (gate)
                    {
                        // A waiter that gave up meanwhile passes its turn on.
                        while (waiting.TryDequeue(out var turn) && !turn.TrySetResult(slot))
                        {
                        }
                    }
                }
                catch (Exception ex)
                {
                    // Redis unavailable: nobody can be let through safely; try again shortly.
                    limiter.LogReserveFailed(ex, sender.Id);
                    await Task.Delay(TimeSpan.FromMilliseconds(200));
                }
            }
        }

        private async Task<long> NextSlotAsync()
        {
            if (left == 0)
            {
                var block = ahead ?? ReserveAsync();
                ahead = null;
                nextSlot = await block;
                left = blockSize;
            }
            left--;
            // Past half a block the next is asked for, so it starts where this one ends: asked for once this one is used
            // up, it would start a round trip (an fsync with AOF always) and the pump's lateness later — 3 % of a busy
            // 1,000/s number's slots. A process that sends a message now and then still reserves one block at a time.
            if (blockSize > 1 && left == (blockSize - 1) / 2) ahead = ReserveAsync();
            var slot = nextSlot;
            nextSlot += ToTicks(intervalMicros);
            return slot;
        }

        /// <summary>The first of the next <see cref="blockSize"/> slots Redis gives this process, on this process's clock.</summary>
        private async Task<long> ReserveAsync()
        {
            // A process's first round trips pay for the connection, the script load and JIT: an offset taken from
            // them alone could be off by tens of milliseconds, so a few plain TIME calls come first.
            while (limiter.clock.Count < ClockOffset.Warmup) await limiter.ProbeClockAsync();
            var sent = Stopwatch.GetTimestamp();
            var answer = (long[])(await limiter.db.ScriptEvaluateAsync(LuaScripts.ReserveSendSlots,
                [RedisKeys.SendSlots(sender.Id)], [intervalMicros, blockSize]))!;
            var offset = limiter.clock.Observe(redisNow: answer[0], sent, Stopwatch.GetTimestamp());
            return ToTicks(answer[1] - offset);
        }
    }

    /// <summary>One plain TIME round trip, observed by <see cref="ClockOffset"/>.</summary>
    private async Task ProbeClockAsync()
    {
        var sent = Stopwatch.GetTimestamp();
        var time = (RedisValue[])(await db.ExecuteAsync("TIME"))!;
        clock.Observe((long)time[0] * 1_000_000 + (long)time[1], sent, Stopwatch.GetTimestamp());
    }

    internal static long ToMicros(long ticks) => (long)(ticks * (1_000_000.0 / Stopwatch.Frequency));

    private static long ToTicks(long micros) => (long)(micros * (Stopwatch.Frequency / 1_000_000.0));

    [LoggerMessage(LogLevel.Warning, "Reserving send slots for sender {Sender} failed; retrying")]
    private partial void LogReserveFailed(Exception exception, string sender);
}
