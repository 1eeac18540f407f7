using Bot.Core.Announcements;
using Bot.Core.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RedLockNet;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// The dispatcher loop: take the lock (unless switched off), claim due announcements, fan each out, and
/// sleep until the next one is due, a pub/sub wake-up arrives, or the poll interval passes.
/// </summary>
public sealed partial class Dispatcher(
    AnnouncementQueue queue,
    FanOut fanOut,
    DispatcherLock dispatcherLock,
    DispatchPause pause,
    IConnectionMultiplexer redis,
    RedisKeyspace keyspace,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<Dispatcher> logger) : BackgroundService
{
    private readonly DispatcherOptions options = options.Value;
    private readonly SemaphoreSlim wakeUp = new(0, 1);
    private RedLockStatus? lastLockStatus;

    /// <summary>Who this dispatcher is in delivery claims: unique per instance, readable in Redis.</summary>
    public string Owner { get; } = $"{Environment.MachineName}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..6]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.GetSubscriber();
        var wakeUpChannel = keyspace.Channel(RedisKeys.WakeUp);
        await subscriber.SubscribeAsync(wakeUpChannel, (_, message) =>
        {
            if (message == AnnouncementQueue.ResumeMessage) pause.Clear();
            WakeUp();
        });
        LogStarted(Owner, options.UseLock);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (!options.UseLock)
                    {
                        await DispatchWhileAsync(() => true, takeOverAll: false, stoppingToken);
                        continue;
                    }
                    using var held = await dispatcherLock.AcquireAsync(options.LockExpiry, options.PollInterval, stoppingToken);
                    ReportLock(held);
                    if (held.IsAcquired)
                    {
                        var validity = new LockValidity(held, options.LockExpiry, time);
                        // A new holder owns everything in flight: the previous holder is dead or has lost the lock.
                        await DispatchWhileAsync(validity.IsValid, takeOverAll: true, stoppingToken);
                        if (!stoppingToken.IsCancellationRequested) LogLockLost(Owner);
                        ReportLock(held);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                }
                catch (Exception ex)
                {
                    LogLoopFailed(ex);
                    await Sleep(options.PollInterval, stoppingToken);
                }
            }
        }
        finally
        {
            await subscriber.UnsubscribeAsync(wakeUpChannel);
        }
    }

    private async Task DispatchWhileAsync(Func<bool> held, bool takeOverAll, CancellationToken stoppingToken)
    {
        // By announcement id: this process never runs two passes of one announcement. Its own lease can come back
        // from a claim (it lapsed while the process stalled, or a new lock holder takes over everything in flight);
        // the pass already running keeps it.
        var running = new Dictionary<string, Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested && held())
            {
                foreach (var done in running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToList()) running.Remove(done);
                var room = options.MaxParallelAnnouncements - running.Count;
                if (room > 0)
                {
                    var now = time.GetUtcNow();
                    var ids = await queue.ClaimAsync(Owner, options.LeaseDuration, takeOverAll ? DateTimeOffset.MaxValue : now, room);
                    takeOverAll = false;
                    foreach (var id in ids.Where(id => !running.ContainsKey(id))) running[id] = RunFanOutAsync(id, held, stoppingToken);
                    if (ids.Length == room) continue;
                }
                await fanOut.ResendOutsideWindowAsync(Owner, stoppingToken);
                await WaitForWorkAsync(running.Count, stoppingToken);
            }
        }
        finally
        {
            // Fan-outs stop at their next batch once the lock is lost or the host stops; wait for them so
            // in-flight sends are recorded before the lock is released.
            await Task.WhenAll(running.Values);
        }
    }

    private async Task RunFanOutAsync(string id, Func<bool> held, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await fanOut.RunAsync(id, Owner, held, stoppingToken);
        }
        catch (Exception ex)
        {
            // The lease runs out and the announcement is retried then (here or on another replica).
            LogFanOutFailed(ex, id);
        }
        finally
        {
            WakeUp();
        }
    }

    private async Task WaitForWorkAsync(int running, CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        var wait = options.PollInterval;
        if (running < options.MaxParallelAnnouncements)
        {
            foreach (var next in new[] { await queue.NextDueAsync(), await queue.NextLeaseExpiryAsync() })
            {
                if (next is { } at) wait = Min(wait, at - now);
            }
        }
        if (wait <= TimeSpan.Zero) return;
        try
        {
            await wakeUp.WaitAsync(wait, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void WakeUp()
    {
        try
        {
            wakeUp.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    private void ReportLock(IRedLock held)
    {
        if (held.Status == lastLockStatus) return;
        lastLockStatus = held.Status;
        if (held.Status is RedLockStatus.NoQuorum) LogNoQuorum(held.InstanceSummary.ToString());
        else LogLockStatus(Owner, held.Status, held.LockId);
    }

    private async Task Sleep(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public override void Dispose()
    {
        wakeUp.Dispose();
        base.Dispose();
    }

    [LoggerMessage(LogLevel.Information, "Dispatcher {Owner} started (lock {UseLock})")]
    private partial void LogStarted(string owner, bool useLock);

    [LoggerMessage(LogLevel.Warning, "Dispatcher {Owner}: the lock was lost or could not be extended in time; stopped claiming")]
    private partial void LogLockLost(string owner);

    [LoggerMessage(LogLevel.Information, "Dispatcher {Owner}: lock {Status} ({LockId})")]
    private partial void LogLockStatus(string owner, RedLockStatus status, string lockId);

    [LoggerMessage(LogLevel.Warning, "Dispatcher lock has no quorum ({Instances}): fewer than a majority of its Redis instances answer, so nothing is claimed")]
    private partial void LogNoQuorum(string instances);

    [LoggerMessage(LogLevel.Error, "Dispatcher loop failed; retrying")]
    private partial void LogLoopFailed(Exception exception);

    [LoggerMessage(LogLevel.Error, "Fan-out of announcement {AnnouncementId} failed; it resumes when its lease runs out")]
    private partial void LogFanOutFailed(Exception exception, string announcementId);
}
