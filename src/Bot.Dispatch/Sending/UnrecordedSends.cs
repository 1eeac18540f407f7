using System.Runtime.ExceptionServices;

namespace Bot.Dispatch;

/// <summary>
/// A pass's sends whose request may be out and whose outcome is not yet in Redis: at most <paramref name="capacity"/>
/// (<see cref="DispatcherOptions.MaxConcurrentSends"/>), so a crash leaves at most that many claimed-but-unrecorded
/// deliveries, as when each send awaited its record. A send asks for its place together with its claim and keeps it
/// until its outcome is written, so one sender's record and its next claim go to Redis together instead of one after
/// the other (with AOF <c>always</c>, one fsync wait per delivery instead of two).
/// </summary>
/// <param name="lineStopped">Cancelled when a record cannot be written: the pass stops, and <see cref="DrainAsync"/> throws.</param>
public sealed class UnrecordedSends(int capacity, CancellationTokenSource lineStopped)
{
    private readonly SemaphoreSlim places = new(capacity, capacity);
    private Exception? failure;

    /// <summary>
    /// <paramref name="claim"/> with a place: taken while the claim is, returned when the claim is given back or refused,
    /// or else once <see cref="Recording"/>'s write ends (a claim that could not be given back is recorded too).
    /// </summary>
    public SendClaim Around(SendClaim claim)
    {
        var holds = false;
        return new SendClaim(
            async () =>
            {
                var place = places.WaitAsync();
                try
                {
                    holds = await claim.TakeAsync();
                }
                finally
                {
                    await place;
                    if (!holds) places.Release();
                }
                return holds;
            },
            async () =>
            {
                if (!holds) return true;
                // Not given back (another pass settled it): the send goes on to a record, which frees the place.
                if (!await claim.GiveBackAsync()) return false;
                holds = false;
                places.Release();
                return true;
            });
    }

    /// <summary>The outcome of a send that took its place through <see cref="Around"/>, being written; its place frees when it is.</summary>
    public void Recording(Task write) => _ = SettleAsync(write);

    private async Task SettleAsync(Task write)
    {
        try
        {
            await write;
        }
        catch (Exception ex)
        {
            if (Interlocked.CompareExchange(ref failure, ex, null) is null)
            {
                try
                {
                    await lineStopped.CancelAsync();
                }
                catch (ObjectDisposedException)
                {
                    // The pass ended on another failure meanwhile.
                }
            }
        }
        finally
        {
            places.Release();
        }
    }

    /// <summary>Waits until every outcome handed over is written; throws the first that could not be.</summary>
    public async Task DrainAsync()
    {
        for (var i = 0; i < capacity; i++) await places.WaitAsync();
        places.Release(capacity);
        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
    }
}
