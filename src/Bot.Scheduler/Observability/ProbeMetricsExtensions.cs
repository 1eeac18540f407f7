using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Bot.Scheduler.Observability;

public static class ProbeMetricsExtensions
{
    public const string ScrapePath = "/metrics";

    /// <summary>
    /// For a standalone dispatcher: the <c>Bot.Scheduler</c> meter and the runtime's, scraped by Prometheus at
    /// <c>/metrics</c> on <c>Dispatcher:HealthPort</c>, beside the health probe, so each replica has one port to
    /// expose. Off when the port is 0, like the probe.
    /// </summary>
    /// <remarks>
    /// Two <see cref="System.Net.HttpListener"/>s share the port: the probe owns <c>http://+:port/</c> and the
    /// exporter <c>http://+:port/metrics/</c>; the listener routes each request to the longest matching prefix.
    /// </remarks>
    public static IHostApplicationBuilder AddProbeMetrics(this IHostApplicationBuilder builder)
    {
        // Read here because the exporter is wired now; a bad value is reported by DispatcherOptions' validation.
        if (!int.TryParse(builder.Configuration[$"{DispatcherOptions.SectionName}:{nameof(DispatcherOptions.HealthPort)}"], out var port) ||
            port is <= 0 or > 65535)
            return builder;

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("Bot.Scheduler"))
            .WithMetrics(metrics => metrics
                .AddMeter(DispatcherMetrics.MeterName)
                .AddRuntimeInstrumentation()
                .AddPrometheusHttpListener(options =>
                {
                    options.Port = port;
                    options.ScrapeEndpointPath = ScrapePath;
                    // The default prefix is localhost only; "+" answers inside a container too, like the probe.
                    options.ConfigureHttpListener = static (o, listener) =>
                    {
                        listener.Prefixes.Clear();
                        listener.Prefixes.Add($"http://+:{o.Port}{ScrapePath}/");
                    };
                }));
        return builder;
    }
}
