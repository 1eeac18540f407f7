using System.ComponentModel.DataAnnotations;

namespace Bot.Core.Tenants;

/// <summary><c>Tenants</c>: how runtime tenants reach every host, and how long the audit trail is kept.</summary>
public sealed class TenantOptions
{
    public const string SectionName = "Tenants";

    /// <summary>How often each host reads the tenants' version; a change is seen within it, whatever pub/sub lost.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:01", ErrorMessage = "Tenants:RefreshInterval is between 00:00:00.050 and 00:00:01.")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Audit entries older than this are trimmed.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00", ErrorMessage = "Tenants:AuditRetention is between 1 and 3650 days.")]
    public TimeSpan AuditRetention { get; set; } = TimeSpan.FromDays(365);
}
