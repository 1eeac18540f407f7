using Bot.Core.Announcements;
using Microsoft.Extensions.Logging;

namespace Bot.Dispatch;

/// <summary>
/// The lease of one pass, renewed every third of its duration however long sends take (a 60 s Retry-After, a slow
/// WhatsApp, a low rate cap): a live owner never lets it lapse, so no other pass starts beside this one. A Redis
/// error is retried at the next tick; only an answer that another dispatcher owns the lease stops the pass.
/// </summary>
public sealed partial class LeaseKeeper : IAsyncDisposable
{
    private readonly AnnouncementQueue queue;
    private readonly string id;
    private readonly string dispatcher;
    private readonly CancellationTokenSource lineStopped;
    private readonly TimeSpan duration;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource done = new();
    private readonly Task keeping;

    public LeaseKeeper(AnnouncementQueue queue, string id, string dispatcher, CancellationTokenSource lineStopped, TimeSpan duration,
        TimeProvider time, ILogger logger)
    {
        (this.queue, this.id, this.dispatcher, this.lineStopped, this.duration, this.time, this.logger) =
            (queue, id, dispatcher, lineStopped, duration, time, logger);
        keeping = KeepAsync();
    }

    /// <summary>Another dispatcher owns the announcement now: nothing of this pass may touch its lease.</summary>
    public bool Lost { get; private set; }

    private async Task KeepAsync()
    {
        while (!done.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(duration / 3, time, done.Token);
                if (await queue.RenewAsync(id, dispatcher, time.GetUtcNow() + duration) == LeaseUpdate.OwnedByOther)
                {
                    Lost = true;
                    await lineStopped.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRenewFailed(ex, id);
            }
        }
    }

    /// <summary>Stops renewing (the pass ended); whoever ends the lease next (requeue, remove, hand back) does it by owner.</summary>
    public async ValueTask DisposeAsync()
    {
        await done.CancelAsync();
        await keeping;
        done.Dispose();
    }

    [LoggerMessage(LogLevel.Warning, "Renewing the lease of announcement {AnnouncementId} failed; retrying at the next tick")]
    private partial void LogRenewFailed(Exception exception, string announcementId);
}
