using Bot.Scheduler;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Bot.Webhook.Observability;

/// <summary>
/// OpenTelemetry metrics, scraped by Prometheus at <c>/metrics</c>: the dispatcher's meter (when it is embedded,
/// <c>Dispatcher:Enabled=true</c>), the webhook's, ASP.NET Core's and the .NET runtime's.
/// </summary>
public static class MetricsExtensions
{
    public const string ScrapePath = "/metrics";

    public static IHostApplicationBuilder AddMetricsExport(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("Bot.Webhook"))
            .WithMetrics(metrics => metrics
                // Always listed: with the dispatcher in another process the meter simply has no instruments here.
                .AddMeter(DispatcherMetrics.MeterName, WebhookMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        return builder;
    }

    /// <summary>
    /// Anonymous, like the health endpoints: Prometheus does not send API keys. The figures hold no phone numbers
    /// or secrets, only volumes; keep the path off the public side of a reverse proxy if volumes are sensitive.
    /// </summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapPrometheusScrapingEndpoint(ScrapePath).AllowAnonymous().ExcludeFromDescription();
}
