namespace Bot.Core.Announcements;

public static class AnnouncementStatus
{
    public const string Scheduled = "scheduled";
    public const string Dispatching = "dispatching";

    /// <summary>Stopped by an error about the sender (token, account, spam limit): see <c>reason</c>; resumes at <c>resumesAt</c>.</summary>
    public const string Paused = "paused";

    /// <summary>The portfolio's WhatsApp messaging limit is reached: what fits went out, the rest goes on at <c>resumesAt</c>.</summary>
    public const string WaitingForLimit = "waiting_for_limit";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";

    /// <summary>Not finished within Dispatcher:MaxDispatchAge; what was not sent is failed(expired).</summary>
    public const string Expired = "expired";

    public static readonly string[] All = [Scheduled, Dispatching, Paused, WaitingForLimit, Completed, Cancelled, Expired];
}

/// <summary>A WhatsApp template with body parameters, for messages outside the 24-hour window.</summary>
public sealed record TemplateContent(string Name, string Language, IReadOnlyList<string> Parameters);

/// <summary>
/// Every delivery is counted once, in its latest state, so once an announcement completes the counts add up
/// to <see cref="Targeted"/>.
/// </summary>
public sealed record DeliveryCounts(long Targeted, long Sent, long Delivered, long Read, long Failed, long Unknown, long Skipped)
{
    public long Settled => Sent + Delivered + Read + Failed + Unknown + Skipped;
}

public sealed record Announcement(
    string Id,
    string EmployerId,
    string Status,
    DateTimeOffset SendAt,
    DateTimeOffset CreatedAt,
    string? Message,
    TemplateContent? Template,
    bool ToAllEmployees,
    DeliveryCounts Counts,
    DateTimeOffset? StartedAt = null,
    string? Reason = null,
    DateTimeOffset? ResumesAt = null,
    bool Urgent = false);

/// <summary>
/// What an employer asked for, as asked: <see cref="SendAt"/> null means now and <see cref="EmployeeIds"/> null
/// means every employee, so a repeated request hashes the same.
/// </summary>
public sealed record NewAnnouncement(
    string EmployerId,
    string? Message,
    TemplateContent? Template,
    DateTimeOffset? SendAt,
    IReadOnlyList<string>? EmployeeIds,
    // Left out of the request's hash when false, so requests stored before the field existed still replay.
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] bool Urgent = false);
