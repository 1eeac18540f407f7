using Bot.Core.Announcements;
using Bot.Dispatch;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bot.Testing;

/// <summary>Builds dispatcher hosts exactly as Bot.Scheduler's Program does, from in-memory configuration.</summary>
public static class DispatcherHosts
{
    /// <param name="logging">Replaces the default (console at Warning), e.g. to capture every entry.</param>
    /// <param name="time">The clock the dispatcher runs on (a FakeTimeProvider the test moves); the system clock by default.</param>
    /// <param name="services">Registers a test's own part first (e.g. an <see cref="ISendRateLimiter"/>): the hosts' TryAdd leaves it in place.</param>
    public static IHost Build(IDictionary<string, string?> settings, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        // Registered first, so the hosts' TryAdd of the system clock leaves it in place.
        if (time is not null) builder.Services.AddSingleton(time);
        services?.Invoke(builder.Services);
        if (logging is null) builder.Logging.SetMinimumLevel(LogLevel.Warning);
        else logging(builder.Logging);
        return builder.BuildDispatcherReplica();
    }

    public static FanOut FanOut(this IHost host) => host.Services.GetRequiredService<FanOut>();

    /// <summary>The host's queue of a sender (the default one unless named).</summary>
    public static AnnouncementQueue Queue(this IHost host, string senderId = AnnouncementQueues.DefaultSender) =>
        host.Services.GetRequiredService<AnnouncementQueues>().Of(senderId);

    /// <summary>The senders the host's dispatcher dispatches now (those whose lock it holds).</summary>
    public static IReadOnlyCollection<string> HeldSenders(this IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<Dispatcher>().Single().Senders;
}
