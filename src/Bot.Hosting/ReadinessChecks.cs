using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Hosting;

/// <summary>
/// The readiness checks of every host: the webhook and a standalone dispatcher are both useless without Redis and a
/// configured WhatsApp sender.
/// </summary>
public static class ReadinessChecks
{
    /// <summary>Tag of the checks that <c>/health/ready</c> runs; <c>/health/live</c> runs none.</summary>
    public const string ReadyTag = "ready";

    public static IServiceCollection AddReadinessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<RedisPingHealthCheck>("redis", tags: [ReadyTag])
            .AddCheck<WhatsAppConfiguredHealthCheck>("whatsapp", tags: [ReadyTag]);
        return services;
    }

    public static bool IsReadinessCheck(HealthCheckRegistration registration) => registration.Tags.Contains(ReadyTag);
}

/// <summary>Ready only when Redis answers PING: every request and every send goes through it.</summary>
public sealed class RedisPingHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    // A probe must answer well within the orchestrator's own timeout, not after SE.Redis's 5 s default.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected) return HealthCheckResult.Unhealthy("Redis is not connected (ConnectionStrings:Redis).");
        try
        {
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Redis PING failed: {ex.GetType().Name}");
        }
    }
}

/// <summary>Ready only when the sender identity is set; names the missing key, never shows a value.</summary>
public sealed class WhatsAppConfiguredHealthCheck(IOptionsMonitor<WhatsAppOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var value = options.CurrentValue;
        string[] missing =
        [
            .. string.IsNullOrWhiteSpace(value.BaseUrl) ? ["WhatsApp:BaseUrl"] : Array.Empty<string>(),
            .. string.IsNullOrWhiteSpace(value.PhoneNumberId) ? ["WhatsApp:PhoneNumberId"] : Array.Empty<string>(),
            .. string.IsNullOrWhiteSpace(value.AccessToken) ? ["WhatsApp:AccessToken"] : Array.Empty<string>(),
        ];
        return Task.FromResult(missing.Length == 0
            ? HealthCheckResult.Healthy("configured")
            : HealthCheckResult.Unhealthy($"missing {string.Join(", ", missing)}"));
    }
}
