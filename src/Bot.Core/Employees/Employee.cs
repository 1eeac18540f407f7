namespace Bot.Core.Employees;

public static class EmployeeStatus
{
    public const string Active = "active";
    public const string OptedOut = "opted_out";
    public const string Removed = "removed";
}

/// <summary>An employee, known by the employer's stable id; the phone is only where messages go today.</summary>
/// <param name="WaId">Their WhatsApp id when it differs from the phone's digits (Brazil, Mexico, Argentina), as WhatsApp reported it.</param>
/// <param name="LastInboundAt">When they last messaged the sender asked about (opens WhatsApp's 24-hour window); null if never or not asked.</param>
/// <param name="Username">Their WhatsApp username, as the last message carrying one reported it.</param>
public sealed record Employee(string EmployeeId, string Phone, string? Name, string Status, DateTimeOffset UpdatedAt, EmployeeAttributes Attributes,
    string? WaId = null, DateTimeOffset? LastInboundAt = null, string? Username = null)
{
    /// <summary>The WhatsApp id inbound messages from this employee carry.</summary>
    public string WhatsAppId => WaId ?? Phone.TrimStart('+');

    /// <summary>Whether free-form messages may go to them now (WhatsApp's customer-service window).</summary>
    public bool InWindow(DateTimeOffset now, TimeSpan window) => LastInboundAt is { } at && now - at < window;
}

public enum UpsertResult { Created, Updated, Unchanged, PhoneConflict }

public enum RelinkResult { Linked, Unchanged, PhoneConflict, NotFound }
