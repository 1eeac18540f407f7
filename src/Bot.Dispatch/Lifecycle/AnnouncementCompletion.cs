using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// The end of an announcement's sending: completed once every target is settled, its records folded, and the queue
/// told what comes next (its first reminder, or nothing).
/// </summary>
public sealed partial class AnnouncementCompletion(
    AnnouncementStore announcements,
    DeliveryStore deliveries,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<AnnouncementCompletion> logger)
{
    private readonly DispatcherOptions options = options.Value;

    public async Task FinishAsync(AnnouncementQueue queue, Announcement announcement, string dispatcher)
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
        DateTimeOffset? reminderAt = announcement.Acknowledgement is { Reminds: true } policy ? time.GetUtcNow() + policy.RemindAfter!.Value : null;
        var reminderFields = reminderAt is { } first ? AcknowledgementStore.ReminderFields(1, first) : [];
        if (await announcements.Lifecycle.CompleteAsync(announcement.Id, reminderFields))
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
    public async Task FoldAsync(string id)
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
}
