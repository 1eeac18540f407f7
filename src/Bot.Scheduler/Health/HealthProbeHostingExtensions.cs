using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bot.Scheduler.Health;

public static class HealthProbeHostingExtensions
{
    /// <summary>
    /// Readiness checks plus the <see cref="HealthProbeListener"/>, which listens only when <c>Dispatcher:HealthPort</c>
    /// is set. For a standalone dispatcher; the webhook host maps the same checks on its own web server.
    /// </summary>
    public static IHostApplicationBuilder AddHealthProbe(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReadinessChecks();
        builder.Services.AddHostedService<HealthProbeListener>();
        return builder;
    }
}
