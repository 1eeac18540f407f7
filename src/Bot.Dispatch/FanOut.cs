using System.Diagnostics;
using System.Runtime.CompilerServices;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// One dispatcher's pass over one claimed announcement: for each target employee, SET NX the delivery key,
/// send only where that succeeded, and record the outcome. Running it twice (or five times at once) on the
/// same announcement sends nobody a second message; that is what makes resuming safe.
/// </summary>
public sealed partial class FanOut(
    AnnouncementStore announcements,
    AnnouncementQueue queue,
    EmployeeStore employees,
    DeliveryStore deliveries,
    IWhatsAppSender whatsApp,
    SendRateLimiter rateLimiter,
    DispatchPause pause,
    DispatcherMetrics metrics,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<FanOut> logger)
{
    private readonly DispatcherOptions options = options.Value;
    private int passes;
    private volatile bool warmedUp;

    /// <param name="id">The announcement, already claimed into the in-flight set.</param>
    /// <param name="dispatcher">The dispatcher running this pass; each pass claims deliveries under its own name.</param>
    /// <param name="stillHeld">Whether this dispatcher may go on (it still holds the lock); checked before every batch.</param>
    /// <param name="stopping">Host shutdown: in-flight sends finish, nothing new starts.</param>
    public async Task RunAsync(string id, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        // A claim of an earlier pass (this process's included) is never mistaken for one of this pass.
        var owner = $"{dispatcher}#{Interlocked.Increment(ref passes)}";
        var announcement = await announcements.GetAsync(id);
        if (announcement is null || !await StartAsync(announcement))
        {
            await queue.RemoveAsync(id);
            return;
        }

        var total = await announcements.EnsureTargetsAsync(announcement, employees.AudienceAsync(announcement.EmployerId), owner);
        var progress = new Progress();
        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        try
        {
            await using var toSend = ToSendAsync(announcement, total, owner, stillHeld, progress, lineStopped.Token).GetAsyncEnumerator(lineStopped.Token);
            if (!warmedUp && await toSend.MoveNextAsync())
            {
                // A process's first request pays for connection set-up and JIT. Sent alone, it cannot hold up
                // the requests permitted after it until they all leave at once, over the rate cap.
                await DeliverAsync(announcement, toSend.Current, owner, stillHeld, lineStopped, lineStopped.Token);
                warmedUp = true;
            }
            // One stream across batches: workers never wait for a batch to drain before the next one starts.
            await Parallel.ForEachAsync(Rest(toSend),
                new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrentSends, CancellationToken = lineStopped.Token },
                (employee, token) => new ValueTask(DeliverAsync(announcement, employee, owner, stillHeld, lineStopped, token)));
        }
        catch (OperationCanceledException)
        {
            // Shutdown or a stop-the-line error. Deliveries not started were never claimed, so a resume sends them.
        }

        if (pause.IsPaused)
        {
            // Stays 'dispatching' and resumes after the pause; delivered ones are skipped by SET NX then.
            await queue.RequeueAsync(id, pause.PausedUntil);
            return;
        }
        if (progress.Offset < total)
        {
            // Let another replica resume now rather than when the lease runs out.
            await queue.HandBackAsync(id);
            LogHandedBack(id, progress.Offset, total);
            return;
        }
        await FinishAsync(announcement);
        metrics.FanOutFinished(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>How far the stream of deliveries got: the first target of the batch it was on, or the total.</summary>
    private sealed class Progress
    {
        public long Offset { get; set; }
    }

    private static async IAsyncEnumerable<T> Rest<T>(IAsyncEnumerator<T> items)
    {
        while (await items.MoveNextAsync()) yield return items.Current;
    }

    /// <summary>Moves a scheduled announcement to dispatching; false when it was cancelled or finished meanwhile.</summary>
    private async Task<bool> StartAsync(Announcement announcement)
    {
        if (announcement.Status == AnnouncementStatus.Dispatching) return true;
        if (announcement.Status != AnnouncementStatus.Scheduled) return false;
        var before = await announcements.SetStatusAsync(announcement.Id,
            AnnouncementStatus.Scheduled, AnnouncementStatus.Dispatching, "startedAt");
        if (before == AnnouncementStatus.Scheduled) metrics.Claimed(time.GetUtcNow() - announcement.SendAt);
        return before is AnnouncementStatus.Scheduled or AnnouncementStatus.Dispatching;
    }

    /// <summary>
    /// The employees to send to, batch by batch. Before every batch the lock is checked (a dispatcher that lost it
    /// stops here) and the lease renewed. Deliveries that need no send (opted out, removed) are settled here.
    /// </summary>
    private async IAsyncEnumerable<Employee> ToSendAsync(Announcement announcement, long total, string owner, Func<bool> stillHeld,
        Progress progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (long offset = 0; offset < total; offset += options.BatchSize)
        {
            progress.Offset = offset;
            if (cancellationToken.IsCancellationRequested || !stillHeld()) yield break;
            await queue.RenewAsync(announcement.Id, time.GetUtcNow() + options.LeaseDuration);
            var employeeIds = await announcements.TargetsAsync(announcement.Id, offset, offset + options.BatchSize - 1);
            // The phone is read now, just before the send: an employee whose number changed gets it on the new one.
            var people = await employees.GetManyAsync(announcement.EmployerId, employeeIds);
            // A cheap look first, so a resumed announcement does not spend send permits on deliveries that exist.
            // It decides nothing: the SET NX right before each send does.
            var existing = await deliveries.GetManyAsync(announcement.Id, employeeIds);
            var now = time.GetUtcNow();
            var skipped = new List<DeliveryClaim>();
            for (var i = 0; i < employeeIds.Length; i++)
            {
                if (existing[i] is { } record)
                {
                    metrics.DuplicatePrevented();
                    await SettleIfAbandonedAsync(announcement.Id, employeeIds[i], record, owner, stillHeld);
                }
                else if (people[i] is { Status: EmployeeStatus.Active } employee) yield return employee;
                else skipped.Add(new DeliveryClaim(employeeIds[i], new DeliveryRecord(DeliveryState.Skipped, now, Error: people[i]?.Status ?? "not_found")));
            }
            if (skipped.Count > 0) await deliveries.ClaimAsync(announcement.Id, skipped, options.DeliveryRetention);
        }
        progress.Offset = total;
    }

    /// <summary>
    /// A delivery left 'claimed' by a dispatcher that died mid-send may or may not have gone out, so it becomes
    /// 'unknown' and is never re-sent; a status webhook carrying its callback data can still prove it was sent.
    /// </summary>
    private async Task SettleIfAbandonedAsync(string announcementId, string employeeId, DeliveryRecord record, string owner, Func<bool> stillHeld)
    {
        var now = time.GetUtcNow();
        var abandoned = record.State == DeliveryState.Claimed && record.Reference != owner &&
            // Under the lock, any other claimant is a dispatcher that lost the lock; without it, only age tells.
            ((options.UseLock && stillHeld()) || now - record.UpdatedAt > options.StaleClaimAfter);
        if (abandoned)
            await deliveries.TransitionAsync(announcementId, employeeId, new DeliveryRecord(DeliveryState.Unknown, now, Error: "abandoned"), record);
    }

    /// <summary>
    /// Claims one delivery (SET NX) right before its send, sends it, and records how it ended; retries only what
    /// provably was not accepted. Claiming per send keeps what a killed dispatcher leaves 'claimed' to the sends
    /// it had under way (at most MaxConcurrentSends).
    /// </summary>
    private async Task DeliverAsync(Announcement announcement, Employee employee, string owner, Func<bool> stillHeld, CancellationTokenSource lineStopped, CancellationToken token)
    {
        var callbackData = new DeliveryRef(announcement.Id, employee.EmployeeId).Format();
        OutgoingMessage message = announcement.Template is { } t
            ? new TemplateMessage(employee.Phone, t.Name, t.Language, t.Parameters, callbackData)
            : new TextMessage(employee.Phone, announcement.Message!, callbackData);
        var claim = DeliveryRecord.Claimed(owner, time.GetUtcNow());
        if (await deliveries.TryClaimAsync(announcement.Id, employee.EmployeeId, claim, options.DeliveryRetention) is { } theirs)
        {
            metrics.DuplicatePrevented();
            await SettleIfAbandonedAsync(announcement.Id, employee.EmployeeId, theirs, owner, stillHeld);
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            SendResult result;
            try
            {
                // The permit is the last step before the request, so requests reach WhatsApp at the capped
                // rate even when Redis or this process stalls for a moment.
                using var permit = await rateLimiter.AcquireAsync(token);
                if (pause.IsPaused)
                {
                    // Another send hit a stop-the-line error: this one would fail the same way.
                    await GiveBackAsync();
                    await lineStopped.CancelAsync();
                    return;
                }
                // Not cancellable: once a request may have left, its answer decides the delivery's state.
                result = await whatsApp.SendAsync(message, CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                await GiveBackAsync();
                return;
            }
            metrics.Sent(result.Outcome.ToString());
            var now = time.GetUtcNow();
            switch (result.Outcome)
            {
                case SendOutcome.Accepted:
                    await Record(new DeliveryRecord(DeliveryState.Sent, now, result.MessageId));
                    return;
                case SendOutcome.Permanent:
                    await Record(new DeliveryRecord(DeliveryState.Failed, now, Error: result.ErrorCode?.ToString()));
                    return;
                case SendOutcome.Unknown:
                    LogUnknown(announcement.Id, employee.EmployeeId, result.Error);
                    await Record(new DeliveryRecord(DeliveryState.Unknown, now, Error: result.ErrorCode?.ToString() ?? "no_answer"));
                    return;
                case SendOutcome.StopTheLine:
                    // Not accepted: give the claim back so the resumed announcement sends it.
                    await GiveBackAsync();
                    if (pause.Trip(options.StopTheLinePause))
                        LogStopTheLine(result.ErrorCode, result.Error, options.StopTheLinePause, announcement.Id);
                    await lineStopped.CancelAsync();
                    return;
                case SendOutcome.Retryable when attempt >= options.MaxSendAttempts:
                    await Record(new DeliveryRecord(DeliveryState.Failed, now, Error: result.ErrorCode?.ToString()));
                    return;
                case SendOutcome.Retryable:
                    metrics.Retried();
                    try
                    {
                        await Task.Delay(RetryDelay(result, attempt), time, token);
                    }
                    catch (OperationCanceledException)
                    {
                        await GiveBackAsync();
                        return;
                    }
                    break;
            }
        }

        Task Record(DeliveryRecord outcome) => deliveries.TransitionAsync(announcement.Id, employee.EmployeeId, outcome);

        // Only for a send known not to have gone out: the key goes, so a later run sends it.
        Task GiveBackAsync() => deliveries.ReleaseAsync(announcement.Id, employee.EmployeeId, claim);
    }

    private TimeSpan RetryDelay(SendResult result, int attempt)
    {
        if (result.RetryAfter is { } retryAfter) return Min(retryAfter, options.RetryMaxDelay);
        // Pair rate limit (same recipient): Meta asks for 4^n seconds; everything else backs off 2^n with jitter.
        var factor = result.ErrorCode == 131056 ? Math.Pow(4, attempt) : Math.Pow(2, attempt - 1);
        var delay = options.RetryBaseDelay * factor * (0.8 + Random.Shared.NextDouble() * 0.4);
        return Min(delay, options.RetryMaxDelay);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async Task FinishAsync(Announcement announcement)
    {
        var counts = await announcements.CountsAsync(announcement.Id);
        if (counts.Settled < counts.Targeted)
        {
            // Another dispatcher still has sends in flight (or died with some): look again when its claims
            // could have gone stale; whoever settles the last delivery completes the announcement.
            await queue.RenewAsync(announcement.Id, time.GetUtcNow() + options.LeaseDuration);
            return;
        }
        if (await announcements.SetStatusAsync(announcement.Id, AnnouncementStatus.Dispatching,
                AnnouncementStatus.Completed, "completedAt") == AnnouncementStatus.Dispatching)
            LogCompleted(announcement.Id, counts);
        await queue.RemoveAsync(announcement.Id);
    }

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId} completed: {Counts}")]
    private partial void LogCompleted(string announcementId, DeliveryCounts counts);

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId} handed back after {Done} of {Total} targets (stopping or lock lost)")]
    private partial void LogHandedBack(string announcementId, long done, long total);

    [LoggerMessage(LogLevel.Warning, "Delivery {AnnouncementId}/{EmployeeId} has an unknown outcome ({Reason}); it will not be re-sent")]
    private partial void LogUnknown(string announcementId, string employeeId, string? reason);

    [LoggerMessage(LogLevel.Error, "WhatsApp answered error {Code} ({Error}): dispatching is paused for {Pause}; announcement {AnnouncementId} stays resumable")]
    private partial void LogStopTheLine(int? code, string? error, TimeSpan pause, string announcementId);
}
