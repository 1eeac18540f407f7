using Bot.Scheduler;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Harness;

/// <summary>Builds dispatcher hosts exactly as Bot.Scheduler's Program does, from in-memory configuration.</summary>
public static class DispatcherHosts
{
    public static IHost Build(IDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddStandaloneDispatcher();
        return builder.Build();
    }

    public static FanOut FanOut(this IHost host) => host.Services.GetRequiredService<FanOut>();
}
