using Bot.Core.Announcements;

namespace Bot.Dispatch;

/// <summary>
/// What a dispatcher runs for an announcement it claimed from a sender's queue: its fan-out (<see cref="AnnouncementPass"/>),
/// its due reminder (<see cref="ReminderPass"/>) or its expiry; and, between announcements, the sender's template re-sends.
/// </summary>
public sealed class FanOut(
    AnnouncementStore announcements,
    AnnouncementPass announcementPass,
    ReminderPass reminderPass,
    ResendPass resendPass,
    AnnouncementExpiry expiry)
{
    /// <param name="queue">The sender queue the announcement was claimed from.</param>
    /// <param name="id">The announcement, already claimed into the in-flight set.</param>
    /// <param name="dispatcher">The dispatcher running this pass (the lease owner); each pass claims deliveries under its own name.</param>
    /// <param name="stillHeld">Whether this dispatcher may go on (it still holds the lock); checked before every batch.</param>
    /// <param name="stopping">Host shutdown: in-flight sends finish, nothing new starts.</param>
    public async Task RunAsync(AnnouncementQueue queue, string id, string dispatcher, Func<bool> stillHeld, CancellationToken stopping)
    {
        var announcement = await announcements.GetAsync(id);
        if (announcement is null)
        {
            await queue.RemoveAsync(id, dispatcher);
            return;
        }
        if (announcement is { Status: AnnouncementStatus.Completed, Acknowledgement.Reminds: true })
        {
            // Queued again when its sending completed: the reminder pass is due.
            await reminderPass.RunAsync(queue, announcement, dispatcher, stillHeld, stopping);
            return;
        }
        if (expiry.IsDue(announcement))
        {
            await expiry.ExpireAsync(queue, announcement, dispatcher);
            return;
        }
        await announcementPass.RunAsync(queue, announcement, dispatcher, stillHeld, stopping);
    }

    /// <summary>The sender's due template re-sends of texts WhatsApp failed with 131047.</summary>
    public Task ResendOutsideWindowAsync(AnnouncementQueue queue, string dispatcher, Func<bool> stillHeld, CancellationToken stopping) =>
        resendPass.RunAsync(queue, dispatcher, stillHeld, stopping);
}
