using Bot.Core.Redis;
using Bot.Hosting;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bot.Dispatch;

public static class StandaloneDispatcherExtensions
{
    /// <summary>
    /// What a dispatcher replica runs: Redis, the WhatsApp client and the dispatcher. Hosts that need no probes
    /// (benchmark roles) call this alone; Bot.Scheduler calls <see cref="BuildDispatcherReplica"/>.
    /// </summary>
    public static IHostApplicationBuilder AddStandaloneDispatcher(this IHostApplicationBuilder builder)
    {
        builder.AddRedis();
        builder.Services.AddWhatsAppClient();
        builder.AddRuntimeTenants();
        builder.AddDispatcher();
        return builder;
    }

    /// <summary>
    /// Bot.Scheduler's whole program, so tests that stand in for a replica run exactly it: the dispatcher plus the
    /// hosting defaults, with <c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c> on Kestrel at
    /// <c>Dispatcher:HealthPort</c> (nothing is served when it is 0, the default).
    /// </summary>
    public static WebApplication BuildDispatcherReplica(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults("Bot.Scheduler", DispatcherMetrics.MeterName);
        builder.AddStandaloneDispatcher();

        // Read now because it decides which server to register; a bad value is reported by DispatcherOptions' validation.
        if (int.TryParse(builder.Configuration[$"{DispatcherOptions.SectionName}:{nameof(DispatcherOptions.HealthPort)}"], out var port) &&
            port is > 0 and <= 65535)
        {
            // Every interface, so the probe answers inside a container as well as on localhost.
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(port));
        }
        else
        {
            // Kestrel with no address would take localhost:5000, which a second replica on the machine cannot bind.
            builder.Services.AddSingleton<IServer, NoServer>();
        }

        var app = builder.Build();
        app.MapDefaultEndpoints();
        return app;
    }

    /// <summary>The server of a replica without a health port: it listens on nothing.</summary>
    private sealed class NoServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
