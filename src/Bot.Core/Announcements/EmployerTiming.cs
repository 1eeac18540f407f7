using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Bot.Core.Announcements;

/// <summary>The timing part of <c>Employers:&lt;id&gt;</c>.</summary>
public sealed class EmployerTimingOptions
{
    /// <summary>IANA zone for employees without one; UTC when unset.</summary>
    public string? TimeZone { get; set; }

    /// <summary><c>HH:mm-HH:mm</c> in each employee's zone; non-urgent deliveries wait until it ends.</summary>
    public string? QuietHours { get; set; }
}

/// <summary>The <c>Employers</c> section's timing settings, bound from the configuration root.</summary>
public sealed class EmployerTimingSettings
{
    public Dictionary<string, EmployerTimingOptions> Employers { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>An employer's default zone and quiet hours, parsed.</summary>
public sealed record EmployerTiming(DateTimeZone TimeZone, QuietHours? QuietHours)
{
    public static readonly EmployerTiming Default = new(DateTimeZone.Utc, null);
}

/// <summary>Each employer's <see cref="EmployerTiming"/>, parsed once per configuration (re)load.</summary>
public sealed class EmployerTimings
{
    private volatile Dictionary<string, EmployerTiming> snapshot;
    private volatile IReadOnlyDictionary<string, EmployerTiming> runtime = new Dictionary<string, EmployerTiming>();

    public EmployerTimings(IOptionsMonitor<EmployerTimingSettings> settings)
    {
        snapshot = Build(settings.CurrentValue);
        settings.OnChange(s =>
        {
            // A half-edited file keeps the last valid settings.
            if (Check(s).Count == 0) snapshot = Build(s);
        });
    }

    /// <summary>An employer in configuration wins over one made through the operator API with the same id (read-only there).</summary>
    public EmployerTiming For(string employerId) =>
        snapshot.GetValueOrDefault(employerId) ?? runtime.GetValueOrDefault(employerId) ?? EmployerTiming.Default;

    /// <summary>The employers made through the operator API, replacing the previous ones.</summary>
    public void Apply(IReadOnlyDictionary<string, EmployerTiming> employers) => runtime = employers;

    /// <summary>What is wrong, each naming its key; empty when all is right.</summary>
    internal static List<string> Check(EmployerTimingSettings s)
    {
        var errors = new List<string>();
        foreach (var (id, e) in s.Employers)
        {
            if (!string.IsNullOrWhiteSpace(e.TimeZone) && WallClock.Zone(e.TimeZone.Trim()) is null)
                errors.Add($"Employers:{id}:TimeZone '{e.TimeZone}' is not an IANA time zone (such as Europe/Berlin).");
            if (!string.IsNullOrWhiteSpace(e.QuietHours) && QuietHours.Parse(e.QuietHours) is null)
                errors.Add($"Employers:{id}:QuietHours '{e.QuietHours}' is not HH:mm-HH:mm with two different times (such as 21:00-07:00).");
        }
        return errors;
    }

    private static Dictionary<string, EmployerTiming> Build(EmployerTimingSettings s) =>
        s.Employers.ToDictionary(e => e.Key,
            e => new EmployerTiming(WallClock.Zone(e.Value.TimeZone?.Trim()) ?? DateTimeZone.Utc, QuietHours.Parse(e.Value.QuietHours)),
            StringComparer.Ordinal);

    /// <summary>Fails start-up (<c>ValidateOnStart</c>) with every wrong timing setting named.</summary>
    internal sealed class Validation : IValidateOptions<EmployerTimingSettings>
    {
        public ValidateOptionsResult Validate(string? name, EmployerTimingSettings options) =>
            Check(options) is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}

public static class EmployerTimingServiceCollectionExtensions
{
    /// <summary>Binds <c>Employers:&lt;id&gt;:TimeZone</c> and <c>:QuietHours</c>, checked at start-up.</summary>
    public static IServiceCollection AddEmployerTimings(this IServiceCollection services)
    {
        services.AddOptions<EmployerTimingSettings>().BindConfiguration("").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EmployerTimingSettings>, EmployerTimings.Validation>());
        services.TryAddSingleton<EmployerTimings>();
        return services;
    }
}
