using System.Collections.Concurrent;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RedLockNet;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// The dispatcher: every poll interval it counts the live replicas and holds its share of the sender locks,
/// ⌈senders / replicas⌉ at most (taking free ones, releasing the surplus when a replica joins). For each sender it
/// holds, a loop claims that sender's due announcements, fans each out, and sleeps until the next one is due, a
/// pub/sub wake-up names the sender, or the poll interval passes. Without the lock it dispatches every sender.
/// </summary>
public sealed partial class Dispatcher(
    AnnouncementQueues queues,
    FanOut fanOut,
    DispatcherLock dispatcherLock,
    DispatcherReplicas replicas,
    SenderDirectory senders,
    DispatchPause pause,
    IConnectionMultiplexer redis,
    RedisKeyspace keyspace,
    DispatcherMetrics metrics,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<Dispatcher> logger) : BackgroundService
{
    private readonly DispatcherOptions options = options.Value;
    private readonly ConcurrentDictionary<string, SenderLoop> loops = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim rebalance = new(0, 1);
    private int fanOuts;
    private bool noQuorumReported;

    /// <summary>Who this dispatcher is in delivery claims and among the replicas: unique per instance, readable in Redis.</summary>
    public string Owner { get; } = $"{Environment.MachineName}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>The senders this replica dispatches now: those whose lock it holds (every sender without the lock).</summary>
    public IReadOnlyCollection<string> Senders => [.. loops.Where(l => !l.Value.Releasing).Select(l => l.Key).Order(StringComparer.Ordinal)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.ObserveSenderLocks(() => loops.Count(l => l.Value.Lock is not null));
        var subscriber = redis.GetSubscriber();
        var wakeUpChannel = keyspace.Channel(RedisKeys.WakeUp);
        await subscriber.SubscribeAsync(wakeUpChannel, (_, message) =>
        {
            var text = (string?)message ?? "";
            var sender = text;
            if (AnnouncementQueue.IsResume(text, out var resumed, out var employer))
            {
                pause.Lift(resumed, employer);
                sender = resumed;
            }
            // A wake-up names the sender of the announcement due now; a sender held elsewhere is not this replica's.
            if (loops.TryGetValue(sender, out var loop)) loop.Wake();
        });
        LogStarted(Owner, options.UseLock);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var standingBy = false;
                try
                {
                    standingBy = await BalanceAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogLoopFailed(ex);
                }
                // A replica with no sender asks again sooner, so a dead holder's lock is taken soon after it expires (as
                // a standby of the one global lock did); one that dispatches already takes more at its next poll.
                await WaitForRebalanceAsync(standingBy ? Retry : options.PollInterval, stoppingToken);
            }
        }
        finally
        {
            // Each loop stops its fan-outs at their next batch and releases its lock once they are recorded.
            foreach (var loop in loops.Values) loop.Release();
            await Task.WhenAll(loops.Values.Select(l => l.Completion));
            await subscriber.UnsubscribeAsync(wakeUpChannel);
            if (options.UseLock) await LeaveAsync();
        }
    }

    /// <summary>
    /// One look at the spread: start loops for senders newly held, stop the surplus. Without the lock every configured
    /// sender has a loop. Returns whether this replica holds no lock though its share is one or more (it stands by).
    /// </summary>
    private async Task<bool> BalanceAsync(CancellationToken stoppingToken)
    {
        foreach (var (senderId, loop) in loops)
        {
            if (loop.Completion.IsCompleted && loops.TryRemove(senderId, out _)) loop.Dispose();
        }
        var all = senders.All.Select(s => s.Id).Order(StringComparer.Ordinal).ToArray();
        // A sender no longer configured: its queue stays until it is configured again.
        foreach (var (senderId, loop) in loops)
        {
            if (!all.Contains(senderId)) loop.Release();
        }
        if (!options.UseLock)
        {
            foreach (var senderId in all.Where(s => !loops.ContainsKey(s))) Start(senderId, null, stoppingToken);
            return false;
        }

        var live = await replicas.BeatAsync(Owner, options.LockExpiry);
        var held = loops.Where(l => !l.Value.Releasing).Select(l => l.Key).ToList();
        var (share, walk, release) = SenderShare.Plan(all, live, held, Owner);
        foreach (var senderId in release)
        {
            LogReleasing(Owner, senderId, live, share);
            loops[senderId].Release();
            held.Remove(senderId);
        }
        foreach (var senderId in walk)
        {
            if (held.Count >= share || stoppingToken.IsCancellationRequested) break;
            if (loops.ContainsKey(senderId)) continue;
            // The lock's time runs from when it was asked for, not from when the answer came.
            var requestedAt = time.GetUtcNow();
            var acquired = await dispatcherLock.TryAcquireAsync(senderId, options.LockExpiry);
            ReportQuorum(acquired);
            if (!acquired.IsAcquired)
            {
                await acquired.DisposeAsync();
                continue;
            }
            LogLockStatus(Owner, senderId, acquired.Status, acquired.LockId);
            Start(senderId, acquired, stoppingToken, requestedAt);
            held.Add(senderId);
        }
        return held.Count == 0 && share > 0;
    }

    /// <summary>How often a standing-by replica asks for locks: a quarter of the poll interval, 50–500 ms.</summary>
    private TimeSpan Retry => TimeSpan.FromMilliseconds(Math.Clamp(options.PollInterval.TotalMilliseconds / 4, 50, 500));

    private void Start(string senderId, IRedLock? held, CancellationToken stoppingToken, DateTimeOffset requestedAt = default)
    {
        var loop = new SenderLoop(queues.Of(senderId), held, held is null ? null : new LockValidity(held, options.LockExpiry, requestedAt, time));
        loops[senderId] = loop;
        loop.Completion = RunAsync(loop, stoppingToken);
    }

    private async Task RunAsync(SenderLoop loop, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var senderId = loop.Queue.SenderId;
        var failed = false;
        try
        {
            // A new holder owns everything in its sender's flight: the previous holder is dead, lost the lock or released it.
            await DispatchWhileAsync(loop, takeOverAll: loop.Lock is not null, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // The lock is released below; this replica or another takes the sender again at the next tick.
            LogLoopFailed(ex);
            failed = true;
        }
        finally
        {
            if (loop.Lock is { } held)
            {
                if (!loop.Releasing && !stoppingToken.IsCancellationRequested) LogLockLost(Owner, senderId);
                await held.DisposeAsync();
                LogReleased(Owner, senderId);
            }
            // A lock lost to a stall is taken again at once if nobody else has it; a failure waits for the next tick.
            if (!failed) Signal(rebalance);
        }
    }

    private void WakeAll()
    {
        foreach (var loop in loops.Values) loop.Wake();
    }

    private void ReportQuorum(IRedLock attempt)
    {
        var noQuorum = attempt.Status is RedLockStatus.NoQuorum;
        if (noQuorum && !noQuorumReported) LogNoQuorum(attempt.InstanceSummary.ToString());
        noQuorumReported = noQuorum;
    }

    private async Task LeaveAsync()
    {
        try
        {
            await replicas.LeaveAsync(Owner);
        }
        catch (RedisException ex)
        {
            // Its heartbeat lapses instead.
            LogLoopFailed(ex);
        }
    }

    /// <summary>
    /// Until the next look, or until a loop ended. A real-time wait, like a loop's wait for work: the lock's expiry
    /// and extensions run on real time too.
    /// </summary>
    private async Task WaitForRebalanceAsync(TimeSpan wait, CancellationToken stoppingToken)
    {
        try
        {
            await rebalance.WaitAsync(wait, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal static void Signal(SemaphoreSlim semaphore)
    {
        try
        {
            semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
        catch (ObjectDisposedException)
        {
            // The host is gone.
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public override void Dispose()
    {
        foreach (var loop in loops.Values) loop.Dispose();
        rebalance.Dispose();
        base.Dispose();
    }

    [LoggerMessage(LogLevel.Information, "Dispatcher {Owner} started (lock {UseLock})")]
    private partial void LogStarted(string owner, bool useLock);

    [LoggerMessage(LogLevel.Warning, "Dispatcher {Owner}, sender {Sender}: the lock was lost or could not be extended in time; stopped claiming")]
    private partial void LogLockLost(string owner, string sender);

    [LoggerMessage(LogLevel.Information, "Dispatcher {Owner}, sender {Sender}: lock {Status} ({LockId})")]
    private partial void LogLockStatus(string owner, string sender, RedLockStatus status, string lockId);

    [LoggerMessage(LogLevel.Information, "Dispatcher {Owner}, sender {Sender}: releasing the lock, {Replicas} replicas share the senders ({Share} each at most)")]
    private partial void LogReleasing(string owner, string sender, int replicas, int share);

    [LoggerMessage(LogLevel.Information, "Dispatcher {Owner}, sender {Sender}: lock released")]
    private partial void LogReleased(string owner, string sender);

    [LoggerMessage(LogLevel.Warning, "Dispatcher lock has no quorum ({Instances}): fewer than a majority of its Redis instances answer, so nothing is claimed")]
    private partial void LogNoQuorum(string instances);

    [LoggerMessage(LogLevel.Error, "Dispatcher loop failed; retrying")]
    private partial void LogLoopFailed(Exception exception);

    [LoggerMessage(LogLevel.Error, "Fan-out of announcement {AnnouncementId} failed; it resumes when its lease runs out")]
    private partial void LogFanOutFailed(Exception exception, string announcementId);

    [LoggerMessage(LogLevel.Error, "Template re-sends of sender {Sender} failed; they are looked at again at the next poll")]
    private partial void LogResendsFailed(Exception exception, string sender);
}
