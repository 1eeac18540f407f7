using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// Ends an announcement that ran past <see cref="DispatcherOptions.MaxDispatchAge"/>: every target without a delivery
/// record gets <c>failed(expired)</c> (SET NX, so a send that got there first keeps its record) and a claim left by a
/// dead dispatcher becomes <c>unknown</c>; no pass looks at it again.
/// </summary>
public sealed partial class AnnouncementExpiry(
    AnnouncementStore announcements,
    EmployeeStore employees,
    DeliveryStore deliveries,
    IOptions<DispatcherOptions> options,
    TimeProvider time,
    ILogger<AnnouncementExpiry> logger)
{
    private readonly DispatcherOptions options = options.Value;

    /// <summary>
    /// Whether the announcement is still being sent and its pass ran past its age. A retry on request starts a new pass
    /// (the API lets it only while the first pass's records outlive it by MaxDispatchAge).
    /// </summary>
    public bool IsDue(Announcement announcement) =>
        announcement.Status is AnnouncementStatus.Dispatching or AnnouncementStatus.Paused or AnnouncementStatus.WaitingForLimit &&
        time.GetUtcNow() - announcement.PassStartedAt > options.MaxDispatchAge;

    public async Task ExpireAsync(AnnouncementQueue queue, Announcement announcement, string dispatcher)
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
        string? status = announcement.Status;
        // Another pass may move it between these states meanwhile: follow it.
        for (var attempt = 0; attempt < 5 && status is AnnouncementStatus.Dispatching or AnnouncementStatus.Paused or AnnouncementStatus.WaitingForLimit; attempt++)
        {
            var before = await announcements.Lifecycle.ExpireAsync(announcement.Id, status);
            if (before == status) return true;
            status = before;
        }
        return false;
    }

    [LoggerMessage(LogLevel.Warning, "Announcement {AnnouncementId} expired: not finished within {MaxAge}; {Counts}")]
    private partial void LogExpired(string announcementId, TimeSpan maxAge, DeliveryCounts counts);
}
