using Bot.Core.Announcements;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>How a pass ended, once the runner has put the announcement where it goes next (see <see cref="PassRunner.RunAsync{T}"/>).</summary>
public enum PassEnd
{
    /// <summary>Another dispatcher owns the lease, or the queue no longer holds the announcement for this one.</summary>
    Gone,

    /// <summary>The sender or the announcement is paused (<see cref="PassRunner.PauseOf"/>): queued again for the pause's end.</summary>
    Paused,

    /// <summary>Stopped before every target was read (shutdown, lock lost): handed back for another pass now.</summary>
    HandedBack,

    /// <summary>Some employees' local time or quiet hours have not come: queued again for the first of them.</summary>
    Held,

    /// <summary>The messaging limit is full: queued again for when places free.</summary>
    Deferred,

    /// <summary>Every target was looked at: the caller finishes the pass.</summary>
    Done,
}

/// <summary>
/// Runs one pass over an announcement's targets — its fan-out, a reminder or a retry — under the announcement's
/// lease: the one parallel send loop (at most <see cref="DispatcherOptions.MaxConcurrentSends"/> at once, one stream
/// across batches), then the requeue every kind of pass shares.
/// </summary>
public sealed partial class PassRunner(
    SenderDirectory senders, PassContentReader content, DispatchPause pause, IOptions<DispatcherOptions> options, TimeProvider time,
    ILogger<PassRunner> logger)
{
    private readonly DispatcherOptions options = options.Value;
    private int passes;
    private volatile bool warmedUp;

    /// <summary>A claim owner unique to one pass: a claim of an earlier pass (this process's included) is never mistaken for one of this pass.</summary>
    public string NewOwner(string dispatcher) => $"{dispatcher}#{Interlocked.Increment(ref passes)}";

    /// <summary>Requeues the announcement for the end of its sender's pause (when this dispatcher still holds its lease).</summary>
    public Task WaitOutPauseAsync(AnnouncementQueue queue, string id, string dispatcher, Sender sender) =>
        queue.RequeueAsync(id, dispatcher, pause.PausedUntil(sender.Id));

    /// <summary>Why the pass's announcement is paused and until when: its own stop (a refused template), or its sender's pause.</summary>
    public (string Reason, DateTimeOffset Until)? PauseOf(Pass pass) =>
        pass.Stopped ?? (pause.IsPaused(pass.Sender.Id, pass.Announcement.EmployerId)
            ? (pause.Reason(pass.Sender.Id), pause.PausedUntil(pass.Sender.Id))
            : null);

    /// <param name="items">The pass's targets, batch by batch; it sets <see cref="Pass.Offset"/> and checks <see cref="Pass.MayGoOn"/> between batches.</param>
    /// <param name="deliver">One send; at most MaxConcurrentSends at once.</param>
    /// <param name="stopping">Shutdown.</param>
    /// <param name="beforeRequeue">
    /// Says a <see cref="PassEnd.Paused"/> or <see cref="PassEnd.Deferred"/> end in the announcement's status before
    /// the requeue, which lets another pass take the announcement on at once when its time has already come: that
    /// pass must find the status it resumes from.
    /// </param>
    public async Task<(PassEnd End, Pass Pass)> RunAsync<T>(
        AnnouncementQueue queue, Announcement announcement, string dispatcher, string owner, long total, Func<bool> stillHeld,
        Func<Pass, CancellationToken, IAsyncEnumerable<T>> items, Func<Pass, T, CancellationToken, Task> deliver, CancellationToken stopping,
        Func<Pass, PassEnd, Task>? beforeRequeue = null)
    {
        var sender = senders.ForEmployer(announcement.EmployerId, announcement.SenderId);
        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Pass pass;
        var lease = new LeaseKeeper(queue, announcement.Id, dispatcher, lineStopped, options.LeaseDuration, time, logger);
        await using (lease)
        {
            var fallback = senders.FallbackTemplateOf(announcement.EmployerId);
            pass = new Pass(queue, announcement, sender, senders.PortfolioOf(sender), fallback, owner, () => stillHeld() && !lease.Lost, lineStopped, options.MaxConcurrentSends)
            {
                Content = await content.ReadAsync(announcement, sender, fallback),
            };
            try
            {
                await using var toSend = items(pass, lineStopped.Token).GetAsyncEnumerator(lineStopped.Token);
                if (!warmedUp && await toSend.MoveNextAsync())
                {
                    // A process's first request pays for connection set-up and JIT. Sent alone, it cannot hold up
                    // the requests permitted after it until they all leave at once, over the rate cap.
                    await deliver(pass, toSend.Current, lineStopped.Token);
                    warmedUp = true;
                }
                await Parallel.ForEachAsync(Rest(toSend),
                    new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrentSends, CancellationToken = lineStopped.Token },
                    (item, token) => new ValueTask(deliver(pass, item, token)));
            }
            catch (OperationCanceledException)
            {
                // Shutdown, a stop-the-line error or a lost lease. Deliveries not started were never claimed, so a later pass sends them.
            }
            finally
            {
                // Under the lease until the last outcome is in: what the pass ends with counts them.
                await pass.Unrecorded.DrainAsync();
            }
        }
        return (await EndAsync(pass, lease, dispatcher, total, beforeRequeue), pass);
    }

    private async Task<PassEnd> EndAsync(Pass pass, LeaseKeeper lease, string dispatcher, long total, Func<Pass, PassEnd, Task>? beforeRequeue)
    {
        var id = pass.Announcement.Id;
        if (lease.Lost)
        {
            LogLeaseLost(id, pass.Offset, total);
            return PassEnd.Gone;
        }
        if (PauseOf(pass) is { } paused)
        {
            if (beforeRequeue is not null) await beforeRequeue(pass, PassEnd.Paused);
            return await pass.Queue.RequeueAsync(id, dispatcher, paused.Until) == LeaseUpdate.Done ? PassEnd.Paused : PassEnd.Gone;
        }
        if (pass.Offset < total)
        {
            // Let another replica resume now rather than when the lease runs out.
            await pass.Queue.HandBackAsync(id, dispatcher);
            LogHandedBack(id, pass.Offset, total);
            return PassEnd.HandedBack;
        }
        if (pass.HeldUntil is { } heldUntil && (pass.DeferredUntil is null || heldUntil < pass.DeferredUntil))
            return await pass.Queue.RequeueAsync(id, dispatcher, heldUntil) == LeaseUpdate.Done ? PassEnd.Held : PassEnd.Gone;
        if (pass.DeferredUntil is { } resumesAt)
        {
            if (beforeRequeue is not null) await beforeRequeue(pass, PassEnd.Deferred);
            return await pass.Queue.RequeueAsync(id, dispatcher, resumesAt) == LeaseUpdate.Done ? PassEnd.Deferred : PassEnd.Gone;
        }
        return PassEnd.Done;
    }

    private static async IAsyncEnumerable<T> Rest<T>(IAsyncEnumerator<T> items)
    {
        while (await items.MoveNextAsync()) yield return items.Current;
    }

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId} handed back after {Done} of {Total} targets (stopping or lock lost)")]
    private partial void LogHandedBack(string announcementId, long done, long total);

    [LoggerMessage(LogLevel.Warning, "Announcement {AnnouncementId}: another dispatcher owns its lease now; this pass stopped after {Done} of {Total} targets")]
    private partial void LogLeaseLost(string announcementId, long done, long total);
}
