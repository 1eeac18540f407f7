namespace Bot.Core.Employees;

public static class EmployeeStatus
{
    public const string Active = "active";
    public const string OptedOut = "opted_out";
    public const string Removed = "removed";
}

/// <summary>An employee, known by the employer's stable id; the phone is only where messages go today.</summary>
public sealed record Employee(string EmployeeId, string Phone, string? Name, string Status, DateTimeOffset UpdatedAt, EmployeeAttributes Attributes);

public enum UpsertResult { Created, Updated, Unchanged, PhoneConflict }

public enum RelinkResult { Linked, Unchanged, PhoneConflict, NotFound }
