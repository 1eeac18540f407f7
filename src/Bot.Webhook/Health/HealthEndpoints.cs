using Bot.Scheduler.Health;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bot.Webhook.Health;

/// <summary>
/// <c>/health/live</c> (the process answers) and <c>/health/ready</c> (Redis answers PING and WhatsApp is configured),
/// anonymous, for compose healthchecks and load balancers.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>Registers the readiness checks; call before <c>Build()</c>.</summary>
    public static IHostApplicationBuilder AddHealthEndpoints(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReadinessChecks();
        return builder;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        // Liveness runs no check: a Redis outage must not get a healthy process restarted.
        routes.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .AllowAnonymous().ExcludeFromDescription();
        routes.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = ReadinessChecks.IsReadinessCheck, ResponseWriter = WriteAsync })
            .AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = HealthReportJson.ContentType;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.Body.WriteAsync(HealthReportJson.Serialize(report)).AsTask();
    }
}
