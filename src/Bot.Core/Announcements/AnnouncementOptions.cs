using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Core.Announcements;

/// <summary>Section <c>Announcements</c>: how long an announcement is kept once it ended.</summary>
public sealed class AnnouncementOptions
{
    public const string SectionName = "Announcements";

    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(90);

    /// <summary>
    /// After an announcement ends (completed, cancelled, expired) its hash, targets, acknowledgements, reminder counts and
    /// retry attempts live this long, then it is gone from the employer's list. Short values are for tests and demos.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Announcements:Retention must be between {1} and {2}.")]
    public TimeSpan Retention { get; set; } = DefaultRetention;
}

/// <summary>A retention setting to warn about when it is shorter than WhatsApp's 7 days.</summary>
public sealed record RetentionSetting(string Key, Func<IServiceProvider, TimeSpan> Read);

/// <summary>
/// Short retentions are accepted so tests and demos can watch keys expire, but in production they would forget what
/// WhatsApp may still report (statuses come for up to 7 days) or what a client may still retry: one warning at start-up.
/// </summary>
public sealed partial class ShortRetentionWarning(IEnumerable<RetentionSetting> settings, IServiceProvider services, ILogger<ShortRetentionWarning> logger)
    : IHostedService
{
    public static readonly TimeSpan WhatsAppRetention = TimeSpan.FromDays(7);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var setting in settings.DistinctBy(s => s.Key))
        {
            var value = setting.Read(services);
            if (value < WhatsAppRetention) LogShort(setting.Key, value);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Warning, "{Key} is {Value}, below WhatsApp's 7 days: keys go before WhatsApp or a client is done with them (fine for tests and demos)")]
    private partial void LogShort(string key, TimeSpan value);
}

public static class AnnouncementOptionsExtensions
{
    /// <summary>Binds and validates <c>Announcements</c> at start-up, and warns about a short retention.</summary>
    public static IServiceCollection AddAnnouncementOptions(this IServiceCollection services)
    {
        services.AddOptions<AnnouncementOptions>().BindConfiguration(AnnouncementOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRetentionWarning(new RetentionSetting($"{AnnouncementOptions.SectionName}:{nameof(AnnouncementOptions.Retention)}",
            sp => sp.GetRequiredService<IOptions<AnnouncementOptions>>().Value.Retention));
        return services;
    }

    public static IServiceCollection AddRetentionWarning(this IServiceCollection services, RetentionSetting setting)
    {
        services.AddSingleton(setting);
        services.AddHostedService<ShortRetentionWarning>();
        return services;
    }
}
