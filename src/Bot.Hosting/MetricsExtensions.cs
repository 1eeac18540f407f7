using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Bot.Hosting;

/// <summary>
/// OpenTelemetry metrics, scraped by Prometheus at <c>/metrics</c>: the host's own meters, ASP.NET Core's and the
/// .NET runtime's.
/// </summary>
public static class MetricsExtensions
{
    public const string ScrapePath = "/metrics";

    public static IHostApplicationBuilder AddMetricsExport(this IHostApplicationBuilder builder, string serviceName, params string[] meters)
    {
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddMeter(meters)
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
