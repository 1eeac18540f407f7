using Bot.Core.Announcements;

namespace Bot.Dispatch;

/// <summary>One sender's loop: claim its due announcements, run each (at most MaxParallelAnnouncements per process), wait for more.</summary>
public sealed partial class Dispatcher
{
    private async Task DispatchWhileAsync(SenderLoop loop, bool takeOverAll, CancellationToken stoppingToken)
    {
        var queue = loop.Queue;
        // By announcement id: this process never runs two passes of one announcement. Its own lease can come back
        // from a claim (it lapsed while the process stalled, or a new lock holder takes over everything in flight);
        // the pass already running keeps it.
        var running = new Dictionary<string, Task>();
        // Template re-sends run in their own lane: one may wait out minutes of Retry-After, and this loop must not.
        var resends = Task.CompletedTask;
        try
        {
            while (!stoppingToken.IsCancellationRequested && loop.Held())
            {
                foreach (var done in running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToList()) running.Remove(done);
                // The limit is the process's, shared by the loops of every sender it holds.
                var room = options.MaxParallelAnnouncements - Volatile.Read(ref fanOuts);
                if (room > 0)
                {
                    var now = time.GetUtcNow();
                    var ids = await queue.ClaimAsync(Owner, options.LeaseDuration, takeOverAll ? DateTimeOffset.MaxValue : now, room);
                    takeOverAll = false;
                    foreach (var id in ids.Where(id => !running.ContainsKey(id))) running[id] = RunFanOutAsync(queue, id, loop.Held, stoppingToken);
                    if (ids.Length == room) continue;
                }
                if (resends.IsCompleted) resends = RunResendsAsync(queue, loop.Held, stoppingToken);
                await WaitForWorkAsync(loop, stoppingToken);
            }
        }
        finally
        {
            // Fan-outs stop at their next batch once the lock is lost or released or the host stops; wait for them so
            // in-flight sends are recorded before the lock is released.
            await Task.WhenAll(running.Values.Append(resends));
        }
    }

    private async Task RunResendsAsync(AnnouncementQueue queue, Func<bool> held, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await fanOut.ResendOutsideWindowAsync(queue, Owner, held, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogResendsFailed(ex, queue.SenderId);
        }
    }

    private async Task RunFanOutAsync(AnnouncementQueue queue, string id, Func<bool> held, CancellationToken stoppingToken)
    {
        Interlocked.Increment(ref fanOuts);
        await Task.Yield();
        try
        {
            await fanOut.RunAsync(queue, id, Owner, held, stoppingToken);
        }
        catch (Exception ex)
        {
            // The lease runs out and the announcement is retried then (here or on another replica).
            LogFanOutFailed(ex, id);
        }
        finally
        {
            Interlocked.Decrement(ref fanOuts);
            // Room for another announcement, of whichever sender has one due.
            WakeAll();
        }
    }

    private async Task WaitForWorkAsync(SenderLoop loop, CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        var wait = options.PollInterval;
        if (Volatile.Read(ref fanOuts) < options.MaxParallelAnnouncements)
        {
            foreach (var next in new[] { await loop.Queue.NextDueAsync(), await loop.Queue.NextLeaseExpiryAsync() })
            {
                if (next is { } at) wait = Min(wait, at - now);
            }
        }
        if (wait <= TimeSpan.Zero) return;
        await loop.WaitAsync(wait, stoppingToken);
    }
}
