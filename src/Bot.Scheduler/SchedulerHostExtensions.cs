using Bot.Core.Redis;
using Bot.Scheduler.Health;
using Bot.Scheduler.Observability;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Hosting;

namespace Bot.Scheduler;

public static class SchedulerHostExtensions
{
    /// <summary>
    /// Everything a standalone dispatcher replica runs: Redis, the WhatsApp client, the dispatcher, and the health
    /// and metrics listener on <c>Dispatcher:HealthPort</c> (off unless set). Bot.Scheduler's Program is this one
    /// call, and so is every test or benchmark host that stands in for a replica.
    /// </summary>
    public static IHostApplicationBuilder AddStandaloneDispatcher(this IHostApplicationBuilder builder)
    {
        builder.AddRedis();
        builder.Services.AddWhatsAppClient();
        builder.AddDispatcher();
        builder.AddHealthProbe();
        builder.AddProbeMetrics();
        return builder;
    }
}
