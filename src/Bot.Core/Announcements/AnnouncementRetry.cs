using Bot.Core.Deliveries;

namespace Bot.Core.Announcements;

public enum RetryOutcome { Retrying, NotFound, Dispatching, Finishing, TooOld }

/// <summary>Which deliveries a retry on request takes: their state, and optionally only these error codes.</summary>
public sealed record RetryChoice(IReadOnlySet<DeliveryState> States, IReadOnlySet<string>? Errors)
{
    public bool Takes(DeliveryRecord record) =>
        States.Contains(record.State) && (Errors is null || (record.Error is { } error && Errors.Contains(error)));
}

/// <summary>
/// A retry on request: the chosen failed or unknown deliveries of an announcement go back to pending, one compare-and-set
/// per delivery (<see cref="DeliveryStore.RetryAsync"/>), and a completed or expired announcement goes back to
/// dispatching and into its sender's due queue, as a resume does. The next pass sends every target without a record,
/// which is exactly those: everyone else keeps the record that stops a second send.
/// </summary>
public sealed class AnnouncementRetry(AnnouncementStore announcements, DeliveryStore deliveries, TimeProvider time)
{
    private const int PageSize = 500;

    /// <param name="deliveryRetention">How long delivery records live from their claim (Dispatcher:DeliveryRetention).</param>
    /// <param name="maxDispatchAge">How long the retry's pass may run before it expires (Dispatcher:MaxDispatchAge).</param>
    public async Task<(RetryOutcome Outcome, int Retrying)> RetryAsync(string employerId, string id, RetryChoice choice,
        TimeSpan deliveryRetention, TimeSpan maxDispatchAge)
    {
        if (await announcements.GetAsync(employerId, id) is not { } announcement) return (RetryOutcome.NotFound, 0);
        if (announcement.Status is AnnouncementStatus.Scheduled or AnnouncementStatus.Dispatching or AnnouncementStatus.Cancelled)
            return (RetryOutcome.Dispatching, 0);
        var queue = announcements.QueueOf(announcement);
        // Ended but still held by a dispatcher: it is folding the records (the status says completed a moment before the
        // fan-out lets go) or sending a reminder, and will take the announcement out of the queue (or requeue it for its
        // next reminder) when done, which would drop the retry's turn. Folding takes moments: wait for it.
        var ended = announcement.Status is AnnouncementStatus.Completed or AnnouncementStatus.Expired;
        if (ended && !await LetGoAsync(queue, id)) return (RetryOutcome.Finishing, 0);
        // The retry's pass sends to every target without a record: the first pass's records must outlive it, or a
        // target whose record expired would be sent the announcement again.
        var now = time.GetUtcNow();
        if (announcement.StartedAt is { } started && now + maxDispatchAge >= started + deliveryRetention) return (RetryOutcome.TooOld, 0);

        var retrying = 0;
        var refused = false;
        var retriedAt = announcement.RetriedAt?.ToUnixMs();
        var total = announcement.Counts.Targeted;
        for (long offset = 0; offset < total; offset += PageSize)
        {
            var employeeIds = await announcements.TargetsAsync(id, offset, offset + PageSize - 1);
            if (employeeIds.Length == 0) break;
            var records = await deliveries.GetManyAsync(id, employeeIds);
            var chosen = new List<(string, DeliveryRecord)>();
            for (var i = 0; i < employeeIds.Length; i++)
                if (records[i] is { } record && choice.Takes(record)) chosen.Add((employeeIds[i], record));
            if (chosen.Count == 0) continue;
            // Null: another retry brought it back to dispatching meanwhile; what that one took is its to send.
            if (await deliveries.RetryAsync(id, retriedAt, chosen) is not { } moved)
            {
                refused = true;
                break;
            }
            retrying += moved;
        }
        if (retrying == 0) return (refused ? RetryOutcome.Dispatching : RetryOutcome.Retrying, 0);
        // Paused or waiting: its own resume sends them. Ended: back to dispatching, due now. Two retries at once both
        // get here; one moves it, and queuing it twice is one entry.
        if (ended)
        {
            await announcements.Lifecycle.RetryAsync(id, announcement.Status);
            if (!await queue.RescheduleAsync(id, now)) await queue.ScheduleAsync(id, now);
        }
        return (RetryOutcome.Retrying, retrying);
    }

    /// <summary>How long a retry waits for the dispatcher holding an ended announcement to let it go.</summary>
    public static readonly TimeSpan FinishingWait = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FinishingPoll = TimeSpan.FromMilliseconds(25);

    private async Task<bool> LetGoAsync(AnnouncementQueue queue, string id)
    {
        var deadline = time.GetUtcNow() + FinishingWait;
        while (await queue.LeaseOwnerAsync(id) is not null)
        {
            if (time.GetUtcNow() >= deadline) return false;
            await Task.Delay(FinishingPoll, time);
        }
        return true;
    }
}
