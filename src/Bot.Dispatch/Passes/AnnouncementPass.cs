using System.Diagnostics;
using System.Runtime.CompilerServices;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// One dispatcher's pass over one claimed announcement: each target employee is claimed right before its send, sent
/// only where the claim succeeded, and its outcome recorded. Running it twice (or five times at once) on the same
/// announcement sends nobody a second message; that is what makes resuming safe.
/// </summary>
public sealed partial class AnnouncementPass(
    AnnouncementStore announcements,
    EmployeeStore employees,
    DeliveryStore deliveries,
    SenderDirectory senders,
    PassRunner runner,
    DeliveryPipeline pipeline,
    DeliveryClaimer claimer,
    AnnouncementCompletion completion,
    DispatchPause pause,
    DispatcherMetrics metrics,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<AnnouncementPass> logger)
{
    private readonly DispatcherOptions options = options.Value;

    public async Task RunAsync(AnnouncementQueue queue, Announcement announcement, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        var id = announcement.Id;
        if (await StartAsync(announcement) is not { } fresh)
        {
            // A dispatcher that completed it may have died before folding its records.
            if (announcement is { Status: AnnouncementStatus.Completed }) await completion.FoldAsync(id);
            await queue.RemoveAsync(id, dispatcher);
            return;
        }
        var sender = senders.ForEmployer(announcement.EmployerId, announcement.SenderId);
        if (pause.IsPaused(sender.Id, announcement.EmployerId))
        {
            // The status first: once requeued, a pass may take it on at once (the pause may be over by then).
            await announcements.Lifecycle.PauseAsync(id, pause.Reason(sender.Id), pause.PausedUntil(sender.Id));
            await runner.WaitOutPauseAsync(queue, id, dispatcher, sender);
            return;
        }

        var owner = runner.NewOwner(dispatcher);
        var total = await announcements.EnsureTargetsAsync(announcement, employees.AudienceAsync(announcement.EmployerId, announcement.Audience), owner);
        // Settled records move into the buckets as they settle, so while it dispatches only the claims in flight keep a
        // gate key (a gate key and its record cost Redis twice a folded record).
        await deliveries.EnsureBucketsAsync(id, total);
        var (end, _) = await runner.RunAsync(queue, announcement, dispatcher, owner, total, stillHeld,
            (p, token) => ToSendAsync(p, total, fresh, token), pipeline.DeliverAsync, stopping, SayWhyItStopsAsync);
        if (end == PassEnd.Done)
        {
            await completion.FinishAsync(queue, announcement, dispatcher);
            metrics.FanOutFinished(Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>The status of a pass that stops before everyone was sent to, set before the requeue (see <see cref="PassRunner.RunAsync{T}"/>).</summary>
    private async Task SayWhyItStopsAsync(Pass pass, PassEnd end)
    {
        var id = pass.Announcement.Id;
        switch (end)
        {
            case PassEnd.Paused when runner.PauseOf(pass) is { } paused:
                // Resumable after the pause, or when the employer resumes it; sent ones are skipped by their claims then.
                // Nothing was recorded failed: the error was about the sender or the template.
                await announcements.Lifecycle.PauseAsync(id, paused.Reason, paused.Until);
                break;
            case PassEnd.Deferred:
                // What fits in the messaging limit went out; the rest goes when places free (the claims skip what was sent).
                if (await announcements.Lifecycle.WaitForLimitAsync(id, pass.DeferredUntil!.Value))
                    LogWaitingForLimit(id, pass.Portfolio.Id, pass.Portfolio.MessagingLimit, pass.DeferredUntil.Value);
                break;
        }
    }

    /// <summary>
    /// Moves a scheduled announcement to dispatching, or a paused or waiting one back to it: true when this pass started
    /// it (no delivery of it exists yet), false when it goes on; null when it was cancelled or finished meanwhile.
    /// </summary>
    private async Task<bool?> StartAsync(Announcement announcement)
    {
        switch (announcement.Status)
        {
            case AnnouncementStatus.Dispatching:
                return false;
            case AnnouncementStatus.Paused or AnnouncementStatus.WaitingForLimit:
                var resumed = await announcements.Lifecycle.ResumeAsync(announcement.Id, announcement.Status);
                return resumed == announcement.Status || resumed == AnnouncementStatus.Dispatching ? false : null;
            case AnnouncementStatus.Scheduled:
                var before = await announcements.Lifecycle.StartAsync(announcement.Id);
                if (before == AnnouncementStatus.Scheduled) metrics.Claimed(time.GetUtcNow() - announcement.SendAt);
                return before switch
                {
                    AnnouncementStatus.Scheduled => true,
                    AnnouncementStatus.Dispatching => false,
                    _ => null,
                };
            default:
                return null;
        }
    }

    /// <summary>
    /// The employees to send to, batch by batch. Before every batch the lock and the lease are checked (a dispatcher
    /// that lost either stops here). Deliveries that need no send (opted out, removed) are settled here.
    /// </summary>
    /// <param name="fresh">This pass started the announcement: nothing was claimed before it, so there is nothing to look for.</param>
    private async IAsyncEnumerable<Employee> ToSendAsync(Pass pass, long total, bool fresh, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var announcement = pass.Announcement;
        // The next batch is read while this one is sent, so no send waits for a read.
        var next = total > 0 ? ReadAsync(pass, 0, fresh) : null;
        try
        {
            for (long offset = 0; offset < total; offset += options.BatchSize)
            {
                pass.Offset = offset;
                if (cancellationToken.IsCancellationRequested || !pass.MayGoOn()) yield break;
                var (employeeIds, people, existing) = await next!;
                next = offset + options.BatchSize < total ? ReadAsync(pass, offset + options.BatchSize, fresh) : null;
                var now = time.GetUtcNow();
                var skipped = new List<DeliveryClaim>();
                for (var i = 0; i < employeeIds.Length; i++)
                {
                    if (existing?[i] is { } record)
                    {
                        metrics.DuplicatePrevented();
                        await claimer.SettleIfAbandonedAsync(pass, employeeIds[i], record);
                    }
                    else if (people[i] is { Status: EmployeeStatus.Active } employee) yield return employee;
                    else skipped.Add(new DeliveryClaim(employeeIds[i], new DeliveryRecord(DeliveryState.Skipped, now, Error: people[i]?.Status ?? "not_found")));
                }
                if (skipped.Count > 0) await deliveries.ClaimAsync(announcement.Id, skipped, options.DeliveryRetention);
            }
        }
        finally
        {
            // Read ahead for a pass that stopped: nothing to do with it, but not left unobserved.
            if (next is not null) await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        pass.Offset = total;
    }

    /// <summary>
    /// One batch of targets with what their sends need, read one batch ahead of them: the phone and the 24-hour window
    /// (an employee whose number changed gets it on the new one), and, for a pass that goes on, the records that exist —
    /// a cheap look, so a resumed announcement does not spend send permits on them. It decides nothing: the claim right
    /// before each send does.
    /// </summary>
    private async Task<(string[] EmployeeIds, Employee?[] People, DeliveryRecord?[]? Existing)> ReadAsync(Pass pass, long offset, bool fresh)
    {
        var announcement = pass.Announcement;
        var employeeIds = await announcements.TargetsAsync(announcement.Id, offset, offset + options.BatchSize - 1);
        var people = employees.RecipientsAsync(announcement.EmployerId, employeeIds, pass.Sender.Id);
        var existing = fresh ? null : deliveries.GetManyAsync(announcement.Id, employeeIds);
        return (employeeIds, await people, existing is null ? null : await existing);
    }

    [LoggerMessage(LogLevel.Information, "Announcement {AnnouncementId} waits for the messaging limit of portfolio {Portfolio} ({Limit} recipients per window); it goes on at {ResumesAt:O}")]
    private partial void LogWaitingForLimit(string announcementId, string portfolio, int limit, DateTimeOffset resumesAt);
}
