using System.ComponentModel.DataAnnotations;
using Bot.Core.Announcements;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Api;

/// <summary>Section <c>Api</c>: the employer API's own settings.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>
    /// How long an Idempotency-Key of a request that acts on an announcement (a retry) is remembered with its answer;
    /// short values are for tests and demos.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00", ErrorMessage = "Api:IdempotencyRetention must be between {1} and {2}.")]
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromDays(7);
}

public static class ApiOptionsExtensions
{
    public static IServiceCollection AddApiOptions(this IServiceCollection services)
    {
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRetentionWarning(new RetentionSetting($"{ApiOptions.SectionName}:{nameof(ApiOptions.IdempotencyRetention)}",
            sp => sp.GetRequiredService<IOptions<ApiOptions>>().Value.IdempotencyRetention));
        return services;
    }
}
