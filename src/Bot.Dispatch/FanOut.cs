using System.Diagnostics;
using System.Runtime.CompilerServices;
using Bot.Core;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Messaging;
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
    EmployeeStore employees,
    DeliveryStore deliveries,
    IWhatsAppSender whatsApp,
    SenderDirectory senders,
    SendRateLimiter rateLimiter,
    MessagingLimit messagingLimit,
    DispatchPause pause,
    DispatcherMetrics metrics,
    AcknowledgementStore acknowledgements,
    SendTiming timing,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<FanOut> logger)
{
    private readonly DispatcherOptions options = options.Value;
    private readonly DeliveryRecorder recorder = new(deliveries);
    private int passes;
    private volatile bool warmedUp;

    /// <param name="queue">The sender queue the announcement was claimed from.</param>
    /// <param name="id">The announcement, already claimed into the in-flight set.</param>
    /// <param name="dispatcher">The dispatcher running this pass (the lease owner); each pass claims deliveries under its own name.</param>
    /// <param name="stillHeld">Whether this dispatcher may go on (it still holds the lock); checked before every batch.</param>
    /// <param name="stopping">Host shutdown: in-flight sends finish, nothing new starts.</param>
    public async Task RunAsync(AnnouncementQueue queue, string id, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        // A claim of an earlier pass (this process's included) is never mistaken for one of this pass.
        var owner = $"{dispatcher}#{Interlocked.Increment(ref passes)}";
        var announcement = await announcements.GetAsync(id);
        if (announcement is { Status: AnnouncementStatus.Completed, Acknowledgement.Reminds: true })
        {
            // Queued again when its sending completed: the reminder pass is due (FanOut.Reminders.cs).
            await RemindAsync(queue, announcement, dispatcher, stillHeld, stopping);
            return;
        }
        if (announcement is { Status: AnnouncementStatus.Dispatching or AnnouncementStatus.Paused or AnnouncementStatus.WaitingForLimit } &&
            time.GetUtcNow() - announcement.StartedAt > options.MaxDispatchAge)
        {
            await ExpireAsync(queue, announcement, dispatcher);
            return;
        }
        if (announcement is null || !await StartAsync(announcement))
        {
            // A dispatcher that completed it may have died before folding its records.
            if (announcement is { Status: AnnouncementStatus.Completed }) await FoldAsync(announcement.Id);
            await queue.RemoveAsync(id, dispatcher);
            return;
        }

        var sender = senders.ForEmployer(announcement.EmployerId);
        if (pause.IsPaused(sender.Id))
        {
            await PauseAsync(queue, id, dispatcher, sender);
            return;
        }

        var total = await announcements.EnsureTargetsAsync(announcement, employees.AudienceAsync(announcement.EmployerId, announcement.Audience), owner);
        // Settled records move into the buckets as they settle, so while it dispatches only the claims in flight keep a
        // gate key (a gate key and its record cost Redis twice a folded record).
        await deliveries.EnsureBucketsAsync(id, total);
        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var lease = new LeaseKeeper(queue, id, dispatcher, lineStopped);
        var keeping = KeepLeaseAsync(lease);
        var pass = new Pass(queue, announcement, sender, senders.PortfolioOf(sender), senders.FallbackTemplateOf(announcement.EmployerId),
            owner, () => stillHeld() && !lease.Lost, lineStopped);
        try
        {
            await using var toSend = ToSendAsync(pass, total, lineStopped.Token).GetAsyncEnumerator(lineStopped.Token);
            if (!warmedUp && await toSend.MoveNextAsync())
            {
                // A process's first request pays for connection set-up and JIT. Sent alone, it cannot hold up
                // the requests permitted after it until they all leave at once, over the rate cap.
                await DeliverAsync(pass, toSend.Current, lineStopped.Token);
                warmedUp = true;
            }
            // One stream across batches: workers never wait for a batch to drain before the next one starts.
            await Parallel.ForEachAsync(Rest(toSend),
                new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrentSends, CancellationToken = lineStopped.Token },
                (employee, token) => new ValueTask(DeliverAsync(pass, employee, token)));
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
            LogLeaseLost(id, pass.Offset, total);
            return;
        }
        if (pause.IsPaused(sender.Id))
        {
            await PauseAsync(queue, id, dispatcher, sender);
            return;
        }
        if (pass.Offset < total)
        {
            // Let another replica resume now rather than when the lease runs out.
            await queue.HandBackAsync(id, dispatcher);
            LogHandedBack(id, pass.Offset, total);
            return;
        }
        if (pass.HeldUntil is { } heldUntil && (pass.DeferredUntil is null || heldUntil < pass.DeferredUntil))
        {
            // Some employees' local time or quiet hours have not come: look again when the first of them has.
            await queue.RequeueAsync(id, dispatcher, heldUntil);
            return;
        }
        if (pass.DeferredUntil is { } resumesAt)
        {
            // What fits in the messaging limit went out; the rest goes when places free (SET NX skips what was sent).
            if (await queue.RequeueAsync(id, dispatcher, resumesAt) == LeaseUpdate.Done && await announcements.WaitForLimitAsync(id, resumesAt))
                LogWaitingForLimit(id, pass.Portfolio.Id, pass.Portfolio.MessagingLimit, resumesAt);
            return;
        }
        await FinishAsync(queue, announcement, dispatcher);
        metrics.FanOutFinished(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The lease of one pass: renewed on a timer while the pass runs; lost when another dispatcher owns it.</summary>
    private sealed class LeaseKeeper(AnnouncementQueue queue, string id, string dispatcher, CancellationTokenSource lineStopped)
    {
        private readonly CancellationTokenSource done = new();

        public AnnouncementQueue Queue => queue;
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
    /// The sender is paused (a stop-the-line error): the announcement resumes after the pause, or when an operator resumes
    /// it; delivered ones are skipped by SET NX then. Nothing was recorded failed: the error was about the sender.
    /// </summary>
    private async Task PauseAsync(AnnouncementQueue queue, string id, string dispatcher, Sender sender)
    {
        var until = pause.PausedUntil(sender.Id);
        if (await queue.RequeueAsync(id, dispatcher, until) == LeaseUpdate.Done)
            await announcements.PauseAsync(id, pause.Reason(sender.Id), until);
    }

    /// <summary>What every send of one pass (or one template re-send) needs to know, and how far the pass got.</summary>
    private sealed class Pass(
        AnnouncementQueue queue, Announcement announcement, Sender sender, Portfolio portfolio, FallbackTemplate? fallback, string owner,
        Func<bool> mayGoOn, CancellationTokenSource lineStopped)
    {
        private readonly Lock gate = new();

        public AnnouncementQueue Queue => queue;
        public Announcement Announcement => announcement;
        public Sender Sender => sender;
        public Portfolio Portfolio => portfolio;
        public FallbackTemplate? Fallback => fallback;

        /// <summary>Whose claims this pass makes; a claim of an earlier pass is never mistaken for one of this pass.</summary>
        public string Owner => owner;

        /// <summary>The lock and the lease are still held.</summary>
        public bool MayGoOn() => mayGoOn();

        public CancellationTokenSource LineStopped => lineStopped;

        /// <summary>Its share of the sender's capacity: the employer's, and within it the announcement's.</summary>
        public SendLane Lane { get; } = new(announcement.EmployerId, announcement.Id, announcement.Urgent);

        /// <summary>The first target of the batch the pass is on, or the total once every batch was read.</summary>
        public long Offset { get; set; }

        /// <summary>When the messaging limit frees a place, once a business-initiated send of this pass found it full.</summary>
        public DateTimeOffset? DeferredUntil { get; private set; }

        public void Defer(DateTimeOffset until)
        {
            lock (gate) DeferredUntil = DeferredUntil is { } earlier && earlier < until ? earlier : until;
        }

        /// <summary>The earliest time an employee held by <see cref="SendTiming"/> (local time, quiet hours) may get it.</summary>
        public DateTimeOffset? HeldUntil { get; private set; }

        public void Hold(DateTimeOffset until)
        {
            lock (gate) HeldUntil = HeldUntil is { } earlier && earlier < until ? earlier : until;
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
                if (await lease.Queue.RenewAsync(lease.Id, lease.Dispatcher, time.GetUtcNow() + options.LeaseDuration) == LeaseUpdate.OwnedByOther)
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
    private async Task ExpireAsync(AnnouncementQueue queue, Announcement announcement, string dispatcher)
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
        // The status must end expired even when another pass moved it meanwhile (paused → dispatching): left unfinished,
        // a later pass would write the records again once they expire (after the retention) and count them twice.
        if (await TryMarkExpiredAsync(announcement))
            LogExpired(announcement.Id, options.MaxDispatchAge, await announcements.CountsAsync(announcement.Id));
        await queue.RemoveAsync(announcement.Id, dispatcher);
    }

    /// <summary>Moves a dispatching, paused or waiting announcement to expired; true for the one call that did.</summary>
    private async Task<bool> TryMarkExpiredAsync(Announcement announcement)
    {
        var status = announcement.Status;
        // Another pass may move it between these states meanwhile: follow it.
        for (var attempt = 0; attempt < 5 && status is AnnouncementStatus.Dispatching or AnnouncementStatus.Paused or AnnouncementStatus.WaitingForLimit; attempt++)
        {
            var before = await announcements.SetStatusAsync(announcement.Id, status, AnnouncementStatus.Expired, "expiredAt",
                new HashEntry("reason", ""), new HashEntry("resumesAt", ""));
            if (before == status) return true;
            status = before;
        }
        return false;
    }

    private static async IAsyncEnumerable<T> Rest<T>(IAsyncEnumerator<T> items)
    {
        while (await items.MoveNextAsync()) yield return items.Current;
    }

    /// <summary>
    /// Moves a scheduled announcement to dispatching, or a paused or waiting one back to it; false when it was cancelled or
    /// finished meanwhile.
    /// </summary>
    private async Task<bool> StartAsync(Announcement announcement)
    {
        switch (announcement.Status)
        {
            case AnnouncementStatus.Dispatching:
                return true;
            case AnnouncementStatus.Paused or AnnouncementStatus.WaitingForLimit:
                var resumed = await announcements.SetStatusAsync(announcement.Id, announcement.Status, AnnouncementStatus.Dispatching,
                    "resumedAt", new HashEntry("reason", ""), new HashEntry("resumesAt", ""));
                return resumed == announcement.Status || resumed == AnnouncementStatus.Dispatching;
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
    private async IAsyncEnumerable<Employee> ToSendAsync(Pass pass, long total, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var announcement = pass.Announcement;
        for (long offset = 0; offset < total; offset += options.BatchSize)
        {
            pass.Offset = offset;
            if (cancellationToken.IsCancellationRequested || !pass.MayGoOn()) yield break;
            var employeeIds = await announcements.TargetsAsync(announcement.Id, offset, offset + options.BatchSize - 1);
            // The phone (and the 24-hour window) is read now, just before the send: an employee whose number changed
            // gets it on the new one.
            var people = await employees.GetManyAsync(announcement.EmployerId, employeeIds, pass.Sender.Id);
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
                    await SettleIfAbandonedAsync(pass.Queue, announcement.Id, employeeIds[i], record, pass.Owner, pass.MayGoOn);
                }
                else if (people[i] is { Status: EmployeeStatus.Active } employee) yield return employee;
                else skipped.Add(new DeliveryClaim(employeeIds[i], new DeliveryRecord(DeliveryState.Skipped, now, Error: people[i]?.Status ?? "not_found")));
            }
            if (skipped.Count > 0) await deliveries.ClaimAsync(announcement.Id, skipped, options.DeliveryRetention);
        }
        pass.Offset = total;
    }

    /// <summary>
    /// A delivery left 'claimed' by a dispatcher that died mid-send may or may not have gone out, so it becomes
    /// 'unknown' and is never re-sent; a status webhook carrying its callback data can still prove it was sent.
    /// </summary>
    private async Task SettleIfAbandonedAsync(AnnouncementQueue queue, string announcementId, string employeeId, DeliveryRecord record, string owner, Func<bool> stillHeld)
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
    /// Claims one delivery (SET NX) right before its send, sends it, and records how it ended. The message is text
    /// inside the employee's 24-hour window with the sender, else the employer's fallback template (text when it has
    /// none: WhatsApp then fails it with 131047). A business-initiated message first takes its place in the
    /// portfolio's messaging limit; when that is full, the delivery is left for a later pass, unclaimed.
    /// </summary>
    private async Task DeliverAsync(Pass pass, Employee employee, CancellationToken token)
    {
        var announcement = pass.Announcement;
        if (timing.HeldUntil(announcement, employee) is { } heldUntil)
        {
            pass.Hold(heldUntil);
            return;
        }
        var now = time.GetUtcNow();
        var inWindow = employee.InWindow(now, senders.CustomerServiceWindow);
        var (form, message) = Compose(pass, employee, inWindow);
        if ((!inWindow || form == DeliveryForm.Template) && !await ReachAsync(pass, employee, now)) return;

        var claim = DeliveryRecord.Claimed(pass.Owner, now, form);
        if (await deliveries.TryClaimAsync(announcement.Id, employee.EmployeeId, claim, options.DeliveryRetention) is { } theirs)
        {
            metrics.DuplicatePrevented();
            await SettleIfAbandonedAsync(pass.Queue, announcement.Id, employee.EmployeeId, theirs, pass.Owner, pass.MayGoOn);
            return;
        }
        // Only for a send known not to have gone out: the key goes, so a later run sends it.
        await SendClaimedAsync(pass, employee, message, claim, () => deliveries.ReleaseAsync(announcement.Id, employee.EmployeeId, claim), token);
    }

    private static (string Form, OutgoingMessage Message) Compose(Pass pass, Employee employee, bool inWindow)
    {
        var announcement = pass.Announcement;
        var callbackData = new DeliveryRef(announcement.Id, employee.EmployeeId).Format();
        if (announcement.Template is { } t)
            return (DeliveryForm.Template, new TemplateMessage(employee.Phone, t.Name, t.Language, t.Parameters, callbackData, AckPayloads(announcement)));
        if (!inWindow && pass.Fallback is { } fallback)
            return (DeliveryForm.Template, FallbackMessage(employee, announcement, fallback));
        return (DeliveryForm.Text, TextOrButtons(employee.Phone, announcement, announcement.Message!, callbackData));
    }

    private static TemplateMessage FallbackMessage(Employee employee, Announcement announcement, FallbackTemplate fallback) =>
        new(employee.Phone, fallback.Name, fallback.Language, [announcement.Message!], new DeliveryRef(announcement.Id, employee.EmployeeId).Format(),
            AckPayloads(announcement));

    /// <summary>
    /// Takes the employee's place in the portfolio's messaging limit; false (and the pass deferred to when a place
    /// frees) when it is full. Once full, later sends of the pass do not ask again.
    /// </summary>
    private async Task<bool> ReachAsync(Pass pass, Employee employee, DateTimeOffset now)
    {
        var portfolio = pass.Portfolio;
        if (!portfolio.IsLimited) return true;
        if (pass.DeferredUntil is { } until && until > now) return false;
        if (await messagingLimit.TryReachAsync(portfolio.Id, portfolio.MessagingLimit, portfolio.Window, employee.WhatsAppId, now) is not { } freesAt)
            return true;
        // Places free one by one as the window moves: look again a little later, when a batch of them has.
        pass.Defer(freesAt + portfolio.Window / 100);
        return false;
    }

    /// <summary>Sends a claimed delivery; retries only what provably was not accepted.</summary>
    /// <param name="giveBack">Undoes the claim, for a send known not to have gone out.</param>
    private async Task SendClaimedAsync(Pass pass, Employee employee, OutgoingMessage message, DeliveryRecord claim, Func<Task> giveBack, CancellationToken token)
    {
        var announcement = pass.Announcement;
        var sender = pass.Sender;
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
                await rateLimiter.AcquireAsync(sender, pass.Lane, token);
                if (pause.IsPaused(sender.Id))
                {
                    // Another send hit a stop-the-line error: this one would fail the same way.
                    await giveBack();
                    await pass.LineStopped.CancelAsync();
                    return;
                }
                // Not cancellable: once a request may have left, its answer decides the delivery's state.
                result = await whatsApp.SendAsync(sender, message, CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                await giveBack();
                return;
            }
            metrics.Sent(result.Outcome.ToString());
            var now = time.GetUtcNow();
            switch (result.Outcome)
            {
                case SendOutcome.Accepted:
                    await Record(new DeliveryRecord(DeliveryState.Sent, now, result.MessageId));
                    if (result.WaId is { } waId) await employees.SetWaIdAsync(announcement.EmployerId, employee.EmployeeId, employee.Phone, waId);
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
                    await giveBack();
                    if (pause.Trip(sender.Id, options.StopTheLinePause, $"{result.ErrorCode}: {result.Error}"))
                        LogStopTheLine(result.ErrorCode, result.Error, sender.Id, options.StopTheLinePause, announcement.Id);
                    await pass.LineStopped.CancelAsync();
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
                        await giveBack();
                        return;
                    }
                    break;
            }
        }

        // Batched with the other senders' outcomes; awaited before this sender claims another delivery.
        Task Record(DeliveryRecord outcome) => recorder.TransitionAsync(new DeliveryTransition(announcement.Id, employee.EmployeeId, outcome));
    }

    /// <summary>
    /// Re-sends as the employer's fallback template the texts WhatsApp failed with 131047 (the employee was outside the
    /// 24-hour window after all: the window is only known from messages this product saw). Exactly once per delivery:
    /// the record moves from that failed text to a template claim by compare-and-set, and a template is never re-sent.
    /// </summary>
    public async Task ResendOutsideWindowAsync(AnnouncementQueue queue, string dispatcher, CancellationToken stopping)
    {
        foreach (var delivery in await queue.DueResendsAsync(options.BatchSize))
        {
            if (stopping.IsCancellationRequested) return;
            try
            {
                await ResendAsync(queue, delivery, $"{dispatcher}#resend", stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogResendFailed(ex, delivery.AnnouncementId, delivery.EmployeeId);
            }
        }
    }

    private async Task ResendAsync(AnnouncementQueue queue, DeliveryRef delivery, string owner, CancellationToken stopping)
    {
        var (announcementId, employeeId) = delivery;
        var announcement = await announcements.GetAsync(announcementId);
        var failed = await deliveries.GetAsync(announcementId, employeeId);
        var fallback = announcement is null ? null : senders.FallbackTemplateOf(announcement.EmployerId);
        var employee = announcement is null ? null : (await employees.GetManyAsync(announcement.EmployerId, [employeeId]))[0];
        if (announcement?.Message is null || fallback is null || employee is not { Status: EmployeeStatus.Active } ||
            failed is not { State: DeliveryState.Failed, Error: "131047", Form: DeliveryForm.Text })
        {
            await queue.ForgetResendAsync(delivery);
            return;
        }
        var sender = senders.ForEmployer(announcement.EmployerId);
        if (pause.IsPaused(sender.Id))
        {
            await queue.DeferResendAsync(delivery, pause.PausedUntil(sender.Id));
            return;
        }

        using var lineStopped = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var pass = new Pass(queue, announcement, sender, senders.PortfolioOf(sender), fallback, owner, () => true, lineStopped);
        var now = time.GetUtcNow();
        if (!await ReachAsync(pass, employee, now))
        {
            await queue.DeferResendAsync(delivery, pass.DeferredUntil!.Value);
            return;
        }
        // The claim names the text it replaces: a late duplicate of that text's failure is then not taken for the re-send's.
        var claim = DeliveryRecord.Claimed(owner, now, DeliveryForm.Template) with { Error = failed.Reference };
        var claimed = await deliveries.SwapAsync(announcementId, employeeId, failed, claim);
        // Forgotten before the send: a crash from here on leaves a claim (settled as unknown), never a second re-send.
        await queue.ForgetResendAsync(delivery);
        if (!claimed) return;
        await SendClaimedAsync(pass, employee, FallbackMessage(employee, announcement, fallback), claim,
            async () =>
            {
                // Not sent after all: back to the failed text, queued again.
                if (await deliveries.SwapAsync(announcementId, employeeId, claim, failed)) await queue.AddResendsAsync([delivery]);
            },
            lineStopped.Token);
    }

    private async Task FinishAsync(AnnouncementQueue queue, Announcement announcement, string dispatcher)
    {
        var counts = await announcements.CountsAsync(announcement.Id);
        if (counts.Settled < counts.Targeted)
        {
            // Another dispatcher still has sends in flight (or died with some): look again when its claims
            // could have gone stale; whoever settles the last delivery completes the announcement.
            await queue.RenewAsync(announcement.Id, dispatcher, time.GetUtcNow() + options.LeaseDuration);
            return;
        }
        // An announcement that reminds stays queued, due when its first reminder is (its status is completed all the same).
        var (reminderFields, reminderAt) = FirstReminder(announcement);
        if (await announcements.SetStatusAsync(announcement.Id, AnnouncementStatus.Dispatching,
                AnnouncementStatus.Completed, "completedAt", reminderFields) == AnnouncementStatus.Dispatching)
            LogCompleted(announcement.Id, counts);
        // Final for its own sends (reminders have gate keys of their own): the records fold before the queue moves on.
        await FoldAsync(announcement.Id);
        if (reminderAt is { } at) await queue.RequeueAsync(announcement.Id, dispatcher, at);
        else await queue.RemoveAsync(announcement.Id, dispatcher);
    }

    /// <summary>
    /// Completed is final (no pass sends for it again): its records move into compact buckets and the gate keys go,
    /// which is most of what a delivery costs Redis for the retention period. Before the queue forgets the
    /// announcement, so a dispatcher that dies half-way leaves it to the next one.
    /// </summary>
    private async Task FoldAsync(string id)
    {
        var counts = await announcements.CountsAsync(id);
        await deliveries.FoldAsync(id, counts.Targeted, Batches());

        async IAsyncEnumerable<string[]> Batches()
        {
            for (long offset = 0; offset < counts.Targeted; offset += options.BatchSize)
                yield return await announcements.TargetsAsync(id, offset, offset + options.BatchSize - 1);
        }
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

    [LoggerMessage(LogLevel.Error, "WhatsApp answered error {Code} ({Error}): dispatching from sender {Sender} is paused for {Pause}; announcement {AnnouncementId} stays resumable")]
    private partial void LogStopTheLine(int? code, string? error, string sender, TimeSpan pause, string announcementId);

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId} waits for the messaging limit of portfolio {Portfolio} ({Limit} recipients per window); it goes on at {ResumesAt:O}")]
    private partial void LogWaitingForLimit(string announcementId, string portfolio, int limit, DateTimeOffset resumesAt);

    [LoggerMessage(LogLevel.Warning, "Template re-send of delivery {AnnouncementId}/{EmployeeId} failed; it is looked at again")]
    private partial void LogResendFailed(Exception exception, string announcementId, string employeeId);
}
