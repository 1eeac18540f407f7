using Bot.WhatsAppClient;

namespace Bot.Dispatch;

/// <summary>Hands out send permits per WhatsApp number (<see cref="SendRateLimiter"/>); a host may put another in its place.</summary>
public interface ISendRateLimiter
{
    /// <summary>Waits for <paramref name="lane"/>'s turn at the next slot of <paramref name="sender"/>; cancelling gives up the wait.</summary>
    Task<SendPermit> AcquireAsync(Sender sender, SendLane lane, CancellationToken cancellationToken);

    /// <summary>
    /// Whether a request may leave now on <paramref name="permit"/>, asked right before it would. False when it is later
    /// after its slot than the number's requests have lately been (its claim waited on a Redis stall, the process was
    /// paused): leaving now, it would join the requests of the slots after it, and a one-second window would hold more
    /// than the cap. Such a request is sent on a later permit.
    /// </summary>
    bool LeavesOnTime(Sender sender, SendPermit permit);
}

/// <summary>A send slot granted: when it came, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp.</summary>
public readonly record struct SendPermit(long Slot);
