using System.Diagnostics;
using System.Runtime;
using System.Text.Json;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Bench.Infrastructure;

/// <summary>
/// <c>Bot.Bench --role dispatcher key=value…</c>: one dispatcher replica in a process of its own, wired exactly like
/// Bot.Scheduler's Program (AddStandaloneDispatcher) from in-memory settings. A process of its own
/// so its RSS and allocations are the dispatcher's alone. It speaks a line protocol with the bench: it prints
/// <c>BENCH ready</c>, answers <c>stats</c> with <c>BENCH stats {json}</c>, and stops on <c>stop</c> or end of input.
/// Logs go to stderr.
/// </summary>
public static class DispatcherRole
{
    /// <summary>Replaces the send rate limiter with one that never waits (scenario 1 measures the dispatcher, not the cap).</summary>
    public const string UnlimitedKey = "Bench:NoRateCap";

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = args.Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => (string?)p[1]);
        var unlimited = settings.Remove(UnlimitedKey, out var flag) && flag == "true";
        using var allocations = AllocationSampler.FromEnvironment();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddStandaloneDispatcher();
        if (unlimited)
        {
            // The options validator caps MessagesPerSecond at 1,000 (Meta's ceiling per number).
            builder.Services.AddSingleton<ISendRateLimiter, NoRateCap>();
        }

        using var host = builder.Build();
        await host.StartAsync();
        var redis = host.Services.GetRequiredService<IConnectionMultiplexer>();
        var dispatcher = host.Services.GetServices<IHostedService>().OfType<Dispatcher>().Single();
        Console.WriteLine("BENCH ready");

        while (await Console.In.ReadLineAsync() is { } line)
        {
            if (line == "stop") break;
            if (line == "stats") Console.WriteLine("BENCH stats " + JsonSerializer.Serialize(Stats(redis, dispatcher)));
        }
        await host.StopAsync(TimeSpan.FromSeconds(10));
        allocations?.Write();
        return 0;
    }

    private static DispatcherStats Stats(IConnectionMultiplexer redis, Dispatcher dispatcher)
    {
        var counters = redis.GetCounters();
        return new DispatcherStats(
            GC.GetTotalAllocatedBytes(precise: true),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            counters.Interactive.OperationCount + counters.Subscription.OperationCount,
            Environment.WorkingSet,
            [.. dispatcher.Senders],
            JitInfo.GetCompilationTime().TotalSeconds, JitInfo.GetCompiledMethodCount());
    }
}

/// <summary>Lets every send go at once: scenario 1 measures everything but WhatsApp's cap.</summary>
internal sealed class NoRateCap : ISendRateLimiter
{
    public Task<SendPermit> AcquireAsync(Sender sender, SendLane lane, CancellationToken cancellationToken) =>
        Task.FromResult(new SendPermit(Stopwatch.GetTimestamp()));

    public bool LeavesOnTime(Sender sender, SendPermit permit) => true;
}

/// <param name="Senders">The senders the replica dispatches now (whose lock it holds).</param>
public sealed record DispatcherStats(
    long AllocatedBytes, int Gen0, int Gen1, int Gen2, long RedisOperations, long WorkingSet, string[] Senders, double JitSeconds, long JitMethods);
