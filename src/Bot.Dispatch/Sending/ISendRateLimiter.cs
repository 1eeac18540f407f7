using Bot.WhatsAppClient;

namespace Bot.Dispatch;

/// <summary>Hands out send permits per WhatsApp number (<see cref="SendRateLimiter"/>); a host may put another in its place.</summary>
public interface ISendRateLimiter
{
    /// <summary>Waits for <paramref name="lane"/>'s turn at the next slot of <paramref name="sender"/>; cancelling gives up the wait.</summary>
    Task AcquireAsync(Sender sender, SendLane lane, CancellationToken cancellationToken);
}
