using System.Text.Json.Serialization;
using Bot.Core.Acknowledgements;
using Bot.Core.Employees;

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
/// <param name="Language">The variant to send; empty: each employee's, chosen by <see cref="Templates.TemplateResolver"/>.</param>
/// <param name="Header">The file of a media header; null when the template has none.</param>
public sealed record TemplateContent(
    string Name, string Language, IReadOnlyList<string> Parameters,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Media.MediaAttachment? Header = null);

/// <summary>
/// Every delivery is counted once, in its latest state, so once an announcement completes the counts add up
/// to <see cref="Targeted"/>.
/// </summary>
public sealed record DeliveryCounts(long Targeted, long Sent, long Delivered, long Read, long Failed, long Unknown, long Skipped)
{
    public long Settled => Sent + Delivered + Read + Failed + Unknown + Skipped;
}

/// <param name="ToAllEmployees">Sent to every employee (no employeeIds, no audience).</param>
/// <param name="Audience">Sent to the employees matching this filter when sending starts; null otherwise.</param>
/// <param name="Acknowledgement">Employees are asked to tap "Got it" (and reminded); null when not.</param>
/// <param name="SeriesId">The recurring series this is an occurrence of (<see cref="SeriesStore"/>); null otherwise.</param>
/// <param name="SendAtLocal">Each employee gets it at this wall-clock time in their zone; <see cref="SendAt"/> is then the
/// first instant any zone reaches it.</param>
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
    bool Urgent = false,
    string? SenderId = null,
    AudienceFilter? Audience = null,
    AcknowledgementPolicy? Acknowledgement = null,
    AcknowledgementProgress? AcknowledgementProgress = null,
    string? SeriesId = null,
    DateTime? SendAtLocal = null,
    DateTimeOffset? RetriedAt = null)
{
    /// <summary>When its current pass began: the start, or the last retry on request (its age bounds the pass).</summary>
    public DateTimeOffset? PassStartedAt => RetriedAt is { } retried && (StartedAt is not { } started || retried > started) ? retried : StartedAt;

    /// <summary>The targets are looked up when sending starts (all employees, or an audience), not given up front.</summary>
    public bool TargetsResolvedAtSend => ToAllEmployees || Audience is not null;
}

/// <summary>
/// What an employer asked for, as asked: <see cref="SendAt"/> null means now and <see cref="EmployeeIds"/> and
/// <see cref="Audience"/> null mean every employee, so a repeated request hashes the same.
/// </summary>
public sealed record NewAnnouncement(
    string EmployerId,
    string? Message,
    TemplateContent? Template,
    DateTimeOffset? SendAt,
    IReadOnlyList<string>? EmployeeIds,
    // Left out of the request hash when null or false, so a request stored before these fields existed hashes as it did.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AudienceFilter? Audience = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Urgent = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AcknowledgementPolicy? Acknowledgement = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTime? SendAtLocal = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SeriesId = null);
