using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Not ready when the oldest unprocessed webhook POST is older than <see cref="WebhookOptions.UnhealthyAfter"/>:
/// statuses and employees' messages are piling up (workers down, stuck, or too few).
/// </summary>
public sealed class InboxHealthCheck(WebhookInbox inbox, IOptions<WebhookOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (length, oldestAge) = await inbox.Queue.StatsAsync();
        var data = new Dictionary<string, object> { ["length"] = length, ["oldestAgeSeconds"] = Math.Round(oldestAge?.TotalSeconds ?? 0, 1) };
        return oldestAge > options.Value.UnhealthyAfter
            ? HealthCheckResult.Unhealthy($"The oldest unprocessed webhook POST is {oldestAge.Value.TotalSeconds:F0} s old.", data: data)
            : HealthCheckResult.Healthy($"{length} webhook POSTs waiting.", data);
    }
}
