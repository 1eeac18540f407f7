using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bot.Hosting;

/// <summary>
/// What every host serves besides its own work, set up once (eShop's ServiceDefaults): readiness checks,
/// ProblemDetails and OpenTelemetry metrics, and the anonymous <c>/health/live</c>, <c>/health/ready</c> and
/// <c>/metrics</c> endpoints. Bot.Webhook and Bot.Scheduler both call these two methods.
/// </summary>
public static class HostingDefaults
{
    /// <param name="serviceName">The OpenTelemetry service name, e.g. the host's assembly name.</param>
    /// <param name="meters">The host's own meters; ASP.NET Core's and the runtime's are always exported.</param>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string serviceName, params string[] meters)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddReadinessChecks();
        builder.AddMetricsExport(serviceName, meters);
        return builder;
    }

    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthEndpoints();
        routes.MapMetrics();
        return routes;
    }

    /// <summary>
    /// Runs the host until it stops. Invalid settings (options validated on start) end it with exit code 2 and one
    /// line naming the setting, not a stack trace.
    /// </summary>
    public static int RunOrReportConfigurationError(this IHost host)
    {
        try
        {
            host.Run();
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            Console.Error.WriteLine($"Configuration error: {ex.Message}");
            return 2;
        }
    }
}
