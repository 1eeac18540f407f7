using System.Diagnostics;
using System.Runtime.CompilerServices;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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
    /// <param name="dispatcher">The dispatcher running this pass (the lease owner); each pass claims deliveries under its own name.</param>
    /// <param name="stillHeld">Whether this dispatcher may go on (it still holds the lock); checked before every batch.</param>
    /// <param name="stopping">Host shutdown: in-flight sends finish, nothing new starts.</param>
    public async Task RunAsync(string id, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        // A claim of an earlier pass (this process's included) is never mistaken for one of this pass.
        var owner = $"{dispatcher}#{Interlocked.Increment(ref passes)}";
        var announcement = await announcements.GetAsync(id);
        if (announcement is { Status: AnnouncementStatus.Dispatching or AnnouncementStatus.Paused } &&
            time.GetUtcNow() - announcement.StartedAt > options.MaxDispatchAge)
        {
            await ExpireAsync(announcement, dispatcher);
            return;
        }
        if (announcement is null || !await StartAsync(announcement))
        {
            await queue.RemoveAsync(id, dispatcher);
            return;
        }

        var total = await announcements.EnsureTargetsAsync(announcement, employees.AudienceAsync(announcement.EmployerId, announcement.Audience), owner);
        var progress = new Progress();
        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lease = new LeaseKeeper(id, dispatcher, lineStopped);
        var keeping = KeepLeaseAsync(lease);
        bool MayGoOn() => stillHeld() && !lease.Lost;
        try
        {
            await using var toSend = ToSendAsync(announcement, total, owner, MayGoOn, progress, lineStopped.Token).GetAsyncEnumerator(lineStopped.Token);
            if (!warmedUp && await toSend.MoveNextAsync())
            {
                // A process's first request pays for connection set-up and JIT. Sent alone, it cannot hold up
                // the requests permitted after it until they all leave at once, over the rate cap.
                await DeliverAsync(announcement, toSend.Current, owner, MayGoOn, lineStopped, lineStopped.Token);
                warmedUp = true;
            }
            // One stream across batches: workers never wait for a batch to drain before the next one starts.
            await Parallel.ForEachAsync(Rest(toSend),
                new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrentSends, CancellationToken = lineStopped.Token },
                (employee, token) => new ValueTask(DeliverAsync(announcement, employee, owner, MayGoOn, lineStopped, token)));
        }
        catch (OperationCanceledException)
        {
            // Shutdown, a stop-the-line error or a lost lease. Deliveries not started were never claimed, so a resume sends them.
        }
        finally
        {
            await lease.StopAsync(keeping);
        }

        if (lease.Lost)
        {
            // Another dispatcher owns the announcement now and goes on with it: nothing here may touch its lease.
            LogLeaseLost(id, progress.Offset, total);
            return;
        }
        if (pause.IsPaused)
        {
            // Resumes after the pause (or when an operator resumes it); delivered ones are skipped by SET NX then.
            // Nothing was recorded failed: the error was about the sender, not about any employee.
            if (await queue.RequeueAsync(id, dispatcher, pause.PausedUntil) == LeaseUpdate.Done)
                await announcements.PauseAsync(id, pause.Reason, pause.PausedUntil);
            return;
        }
        if (progress.Offset < total)
        {
            // Let another replica resume now rather than when the lease runs out.
            await queue.HandBackAsync(id, dispatcher);
            LogHandedBack(id, progress.Offset, total);
            return;
        }
        await FinishAsync(announcement, dispatcher);
        metrics.FanOutFinished(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The lease of one pass: renewed on a timer while the pass runs; lost when another dispatcher owns it.</summary>
    private sealed class LeaseKeeper(string id, string dispatcher, CancellationTokenSource lineStopped)
    {
        private readonly CancellationTokenSource done = new();

        public string Id => id;
        public string Dispatcher => dispatcher;
        public CancellationToken Done => done.Token;
        public bool Lost { get; private set; }

        public Task LoseAsync()
        {
            Lost = true;
            return lineStopped.CancelAsync();
        }

        public async Task StopAsync(Task keeping)
        {
            await done.CancelAsync();
            await keeping;
            done.Dispose();
        }
    }

    /// <summary>
    /// Renews the lease every third of its duration, however long sends take (a 60 s Retry-After, a slow WhatsApp, a
    /// low rate cap): a live owner never lets it lapse, so no other pass starts beside this one. A Redis error is
    /// retried at the next tick; only an answer that another dispatcher owns the lease stops the pass.
    /// </summary>
    private async Task KeepLeaseAsync(LeaseKeeper lease)
    {
        while (!lease.Done.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.LeaseDuration / 3, time, lease.Done);
                if (await queue.RenewAsync(lease.Id, lease.Dispatcher, time.GetUtcNow() + options.LeaseDuration) == LeaseUpdate.OwnedByOther)
                {
                    await lease.LoseAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (lease.Done.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRenewFailed(ex, lease.Id);
            }
        }
    }

    /// <summary>
    /// Ends an announcement that ran past <see cref="DispatcherOptions.MaxDispatchAge"/>: every target without a
    /// delivery record gets <c>failed(expired)</c> (SET NX, so a send that got there first keeps its record) and a
    /// claim left by a dead dispatcher becomes <c>unknown</c>; no pass looks at it again.
    /// </summary>
    private async Task ExpireAsync(Announcement announcement, string dispatcher)
    {
        var total = await announcements.EnsureTargetsAsync(announcement, employees.AudienceAsync(announcement.EmployerId, announcement.Audience), $"{dispatcher}#expire");
        var now = time.GetUtcNow();
        for (long offset = 0; offset < total; offset += options.BatchSize)
        {
            var employeeIds = await announcements.TargetsAsync(announcement.Id, offset, offset + options.BatchSize - 1);
            var expired = employeeIds.Select(e => new DeliveryClaim(e, new DeliveryRecord(DeliveryState.Failed, now, Error: "expired"))).ToList();
            var existing = await deliveries.ClaimAsync(announcement.Id, expired, options.DeliveryRetention);
            for (var i = 0; i < employeeIds.Length; i++)
            {
                if (existing[i] is { State: DeliveryState.Claimed } claimed)
                    await deliveries.TransitionAsync(announcement.Id, employeeIds[i], new DeliveryRecord(DeliveryState.Unknown, now, Error: "expired"), claimed);
            }
        }
        if (await announcements.SetStatusAsync(announcement.Id, announcement.Status, AnnouncementStatus.Expired, "expiredAt",
                new HashEntry("reason", ""), new HashEntry("resumesAt", "")) == announcement.Status)
            LogExpired(announcement.Id, options.MaxDispatchAge, await announcements.CountsAsync(announcement.Id));
        await queue.RemoveAsync(announcement.Id, dispatcher);
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

    /// <summary>
    /// Moves a scheduled announcement to dispatching, or a paused one back to it; false when it was cancelled or
    /// finished meanwhile.
    /// </summary>
    private async Task<bool> StartAsync(Announcement announcement)
    {
        switch (announcement.Status)
        {
            case AnnouncementStatus.Dispatching:
                return true;
            case AnnouncementStatus.Paused:
                var resumed = await announcements.SetStatusAsync(announcement.Id, AnnouncementStatus.Paused, AnnouncementStatus.Dispatching,
                    "resumedAt", new HashEntry("reason", ""), new HashEntry("resumesAt", ""));
                return resumed is AnnouncementStatus.Paused or AnnouncementStatus.Dispatching;
            case AnnouncementStatus.Scheduled:
                var before = await announcements.SetStatusAsync(announcement.Id,
                    AnnouncementStatus.Scheduled, AnnouncementStatus.Dispatching, "startedAt");
                if (before == AnnouncementStatus.Scheduled) metrics.Claimed(time.GetUtcNow() - announcement.SendAt);
                return before is AnnouncementStatus.Scheduled or AnnouncementStatus.Dispatching;
            default:
                return false;
        }
    }

    /// <summary>
    /// The employees to send to, batch by batch. Before every batch the lock and the lease are checked (a dispatcher
    /// that lost either stops here). Deliveries that need no send (opted out, removed) are settled here.
    /// </summary>
    private async IAsyncEnumerable<Employee> ToSendAsync(Announcement announcement, long total, string owner, Func<bool> stillHeld,
        Progress progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (long offset = 0; offset < total; offset += options.BatchSize)
        {
            progress.Offset = offset;
            if (cancellationToken.IsCancellationRequested || !stillHeld()) yield break;
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
        if (record.State != DeliveryState.Claimed || record.Reference == owner) return;
        // A claim whose dispatcher holds the announcement's lease is live, however old: its send may be waiting on a
        // long Retry-After. (This pass's own dispatcher never runs a second pass beside it.)
        var leaseOwner = await queue.LeaseOwnerAsync(announcementId);
        if (leaseOwner is not null && record.Reference?.StartsWith(leaseOwner + "#", StringComparison.Ordinal) == true &&
            !owner.StartsWith(leaseOwner + "#", StringComparison.Ordinal)) return;
        var now = time.GetUtcNow();
        // Under the lock, any other claimant is a dispatcher that lost the lock; without it, only age tells.
        if ((options.UseLock && stillHeld()) || now - record.UpdatedAt > options.StaleClaimAfter)
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
            // A retry goes only while the delivery still holds this pass's claim: a status webhook, or a dispatcher that
            // took the announcement over, may have settled it meanwhile.
            if (attempt > 1 && !await deliveries.IsHeldAsync(announcement.Id, employee.EmployeeId, claim)) return;
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
                    if (pause.Trip(options.StopTheLinePause, $"{result.ErrorCode}: {result.Error}"))
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
                        await Task.Delay(result.RetryDelay(attempt, options.RetryBaseDelay, options.RetryMaxDelay), time, token);
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

    private async Task FinishAsync(Announcement announcement, string dispatcher)
    {
        var counts = await announcements.CountsAsync(announcement.Id);
        if (counts.Settled < counts.Targeted)
        {
            // Another dispatcher still has sends in flight (or died with some): look again when its claims
            // could have gone stale; whoever settles the last delivery completes the announcement.
            await queue.RenewAsync(announcement.Id, dispatcher, time.GetUtcNow() + options.LeaseDuration);
            return;
        }
        if (await announcements.SetStatusAsync(announcement.Id, AnnouncementStatus.Dispatching,
                AnnouncementStatus.Completed, "completedAt") == AnnouncementStatus.Dispatching)
            LogCompleted(announcement.Id, counts);
        await queue.RemoveAsync(announcement.Id, dispatcher);
    }

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId} completed: {Counts}")]
    private partial void LogCompleted(string announcementId, DeliveryCounts counts);

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId} handed back after {Done} of {Total} targets (stopping or lock lost)")]
    private partial void LogHandedBack(string announcementId, long done, long total);

    [LoggerMessage(LogLevel.Warning, "Announcement {AnnouncementId}: another dispatcher owns its lease now; this pass stopped after {Done} of {Total} targets")]
    private partial void LogLeaseLost(string announcementId, long done, long total);

    [LoggerMessage(LogLevel.Warning, "Renewing the lease of announcement {AnnouncementId} failed; retrying at the next tick")]
    private partial void LogRenewFailed(Exception exception, string announcementId);

    [LoggerMessage(LogLevel.Warning, "Announcement {AnnouncementId} expired: not finished within {MaxAge}; {Counts}")]
    private partial void LogExpired(string announcementId, TimeSpan maxAge, DeliveryCounts counts);

    [LoggerMessage(LogLevel.Warning, "Delivery {AnnouncementId}/{EmployeeId} has an unknown outcome ({Reason}); it will not be re-sent")]
    private partial void LogUnknown(string announcementId, string employeeId, string? reason);

    [LoggerMessage(LogLevel.Error, "WhatsApp answered error {Code} ({Error}): dispatching is paused for {Pause}; announcement {AnnouncementId} stays resumable")]
    private partial void LogStopTheLine(int? code, string? error, TimeSpan pause, string announcementId);
}
