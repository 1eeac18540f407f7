using System.ComponentModel.DataAnnotations;

namespace Bot.Webhook.Templates;

/// <summary><c>Templates</c>: how often the catalogs are read again, and how long a template pause lasts before a look again.</summary>
public sealed class TemplatesOptions
{
    public const string SectionName = "Templates";

    /// <summary>Every sender with a WABA id is synced at start and then this often (webhooks change it in between).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Templates:SyncInterval is between 00:00:01 and 1.00:00:00.")]
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// An announcement paused because its template was PAUSED or DISABLED comes back after this (Meta's first quality
    /// pause lasts 3 hours) unless the APPROVED webhook or a resume comes first.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "Templates:PauseFor is between 00:00:01 and 30.00:00:00.")]
    public TimeSpan PauseFor { get; set; } = TimeSpan.FromHours(3);
}
