using Bot.Core.Announcements;
using RedLockNet;

namespace Bot.Dispatch;

/// <summary>One sender dispatched by this replica: its queue, its lock (none when the lock is off) and its wake-ups.</summary>
internal sealed class SenderLoop(AnnouncementQueue queue, IRedLock? held, LockValidity? validity) : IDisposable
{
    private readonly SemaphoreSlim wakeUp = new(0, 1);
    private volatile bool releasing;

    public AnnouncementQueue Queue => queue;
    public IRedLock? Lock => held;
    public bool Releasing => releasing;
    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>Whether to go on: not released, and the lock (if any) can still be trusted. Fan-outs check it before every batch.</summary>
    public bool Held() => !releasing && (validity?.IsValid() ?? true);

    public void Release()
    {
        releasing = true;
        Wake();
    }

    public void Wake() => Dispatcher.Signal(wakeUp);

    public async Task WaitAsync(TimeSpan wait, CancellationToken stoppingToken)
    {
        try
        {
            await wakeUp.WaitAsync(wait, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => wakeUp.Dispose();
}
