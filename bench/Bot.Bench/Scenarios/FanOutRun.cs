using Bot.Core.Announcements;
using System.Diagnostics;
using System.Globalization;
using Bot.Bench.Infrastructure;
using Bot.Core.Redis;

namespace Bot.Bench.Scenarios;

/// <summary>One announcement to every employee, timed from creation to completed; what scenarios 1, 1b, 1c and 2 share.</summary>
public static class FanOutRun
{
    public sealed record Run(
        string AnnouncementId, int Employees, TimeSpan Elapsed, double SendRate, double FirstSendMs, long MemoryDelta, long KeysDelta,
        double DeliveryKeyBytes, double MessageIndexKeyBytes, long PeakRss, long Allocated, int Gen0, int Gen1, int Gen2,
        long ClientOperations, double ServerCommands, Dictionary<string, long> CommandCalls, SendLog Log)
    {
        /// <summary>The highest used_memory above the start seen while the announcement was dispatching (sampled every 50 ms).</summary>
        public long PeakMemoryDelta { get; init; }

        /// <summary>CPU seconds (user + system) from create to completed: the dispatcher processes, redis-server, and this
        /// process (the WhatsApp stand-in and the completion poll).</summary>
        public (double Dispatchers, double Redis, double Bench) Cpu { get; init; }

        /// <summary>Time the dispatchers' JIT spent compiling (tiered re-compilation of hot methods included), and how many methods.</summary>
        public (double Seconds, long Methods) Jit { get; init; }
    }


    /// <summary>Seeds <paramref name="employees"/>, starts the dispatchers, warms them up, then times one announcement to everyone.</summary>
    /// <param name="settings">Extra dispatcher settings (scenario 13's Redis:ClaimReplicas).</param>
    /// <param name="beforeCreate">Run untimed after seeding and warm-up, just before the timed announcement (scenario 14 registers an endpoint).</param>
    public static async Task<Run> RunAsync(BenchWorld world, ScenarioResult result, RedisProcess server, int employees, int dispatchers, bool noRateCap,
        IReadOnlyDictionary<string, string>? settings = null, Func<Task>? beforeCreate = null)
    {
        await server.ResetAsync();
        await BenchWorld.SeedEmployeesAsync(server, employees);
        world.WhatsApp.Reset(employees);
        result.Settings["employees"] = employees.ToString(CultureInfo.InvariantCulture);
        result.Settings["dispatchers"] = $"{dispatchers} (processes of Bot.Bench --role dispatcher, Bot.Scheduler's wiring; RedLock on)";
        result.Settings["rate cap"] = noRateCap ? "none (limiter replaced)" : $"WhatsApp:MessagesPerSecond={world.Options.RateCap}";
        result.Settings["redis"] = server.Description;

        var processes = await world.StartDispatchersAsync(server, dispatchers, noRateCap ? null : world.Options.RateCap, settings);
        try
        {
            await world.WarmUpAsync(server, processes.Length, noRateCap ? world.Options.WarmUpDeliveries : world.Options.CappedWarmUpDeliveries);
            world.WhatsApp.Reset(employees);
            if (beforeCreate is not null) await beforeCreate();
            var before = await Task.WhenAll(processes.Select(p => p.StatsAsync()));
            var memoryBefore = await server.UsedMemoryAsync();
            var keysBefore = await server.Server.DatabaseSizeAsync();
            await server.Server.ExecuteAsync("CONFIG", "RESETSTAT");

            var cpuBefore = CpuTicks(processes, server);
            var created = DateTime.UtcNow.Ticks;
            var clock = Stopwatch.StartNew();
            using var sampling = new CancellationTokenSource();
            var peak = SamplePeakMemoryAsync(server, sampling.Token);
            var id = await BenchWorld.CreateAnnouncementAsync(server, sendAt: null, employeeIds: null);
            var polls = await world.WaitForCompletionAsync(server, id, employees, TimeSpan.FromSeconds(60 + employees / 100.0));
            var elapsed = clock.Elapsed;
            var cpuAfter = CpuTicks(processes, server);
            await sampling.CancelAsync();
            var peakMemory = await peak;
            // The dispatcher's last step after completing it (folding its records) ends with it leaving the in-flight set.
            var folded = DateTime.UtcNow.AddSeconds(60);
            while (await server.Db.SortedSetScoreAsync(RedisKeys.InFlight(AnnouncementQueues.DefaultSender), id) is not null && DateTime.UtcNow < folded) await Task.Delay(20);

            var calls = await server.CommandCallsAsync();
            var after = await Task.WhenAll(processes.Select(p => p.StatsAsync()));
            var memoryAfter = await server.UsedMemoryAsync();
            var keysAfter = await server.Server.DatabaseSizeAsync();
            var peakRss = processes.Max(p => p.PeakRss());
            var log = world.WhatsApp.Snapshot();
            var counts = await BenchWorld.Stores(server).Announcements.CountsAsync(id);

            BenchWorld.CheckExactlyOnce(result, log, employees, counts);
            // Our own polling and bookkeeping are not the product's traffic.
            calls["hget"] = calls.GetValueOrDefault("hget") - polls;
            foreach (var own in calls.Keys.Where(k => k is "info" or "ping" or "echo" or "dbsize" || k.StartsWith("config|", StringComparison.Ordinal) ||
                         k.StartsWith("client|", StringComparison.Ordinal) || k.StartsWith("cluster|", StringComparison.Ordinal)).ToList())
                calls.Remove(own);

            var stamps = await server.Db.HashGetAsync(RedisKeys.Announcement(id), ["createdAt", "startedAt", "completedAt"]);
            if (!stamps[1].IsNull)
                result.Add("create → claimed (startedAt − createdAt)", (long)stamps[1] - (long)stamps[0], "ms");
            var (deliveryBytes, indexBytes) = await SampleKeySizesAsync(server, id, employees);
            return new Run(id, employees, elapsed,
                log.Total > 1 ? (log.Total - 1) / TimeSpan.FromTicks(log.Arrivals[^1] - log.Arrivals[0]).TotalSeconds : 0,
                log.Total > 0 ? TimeSpan.FromTicks(log.Arrivals[0] - created).TotalMilliseconds : double.NaN,
                memoryAfter - memoryBefore, keysAfter - keysBefore, deliveryBytes, indexBytes, peakRss,
                after.Zip(before).Sum(p => p.First.AllocatedBytes - p.Second.AllocatedBytes),
                after.Zip(before).Sum(p => p.First.Gen0 - p.Second.Gen0),
                after.Zip(before).Sum(p => p.First.Gen1 - p.Second.Gen1),
                after.Zip(before).Sum(p => p.First.Gen2 - p.Second.Gen2),
                // Minus the 'stats' round itself: nothing, the counters are read locally.
                after.Zip(before).Sum(p => p.First.RedisOperations - p.Second.RedisOperations),
                calls.Values.Sum(), calls, log)
            {
                PeakMemoryDelta = Math.Max(0, peakMemory - memoryBefore),
                Cpu = ((cpuAfter.Dispatchers - cpuBefore.Dispatchers) / 100.0, (cpuAfter.Redis - cpuBefore.Redis) / 100.0,
                    (cpuAfter.Bench - cpuBefore.Bench) / 100.0),
                Jit = (after.Zip(before).Sum(p => p.First.JitSeconds - p.Second.JitSeconds), after.Zip(before).Sum(p => p.First.JitMethods - p.Second.JitMethods)),
            };
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
        }
    }

    private static (long Dispatchers, long Redis, long Bench) CpuTicks(ChildProcess[] dispatchers, RedisProcess server) =>
        (dispatchers.Sum(p => CpuMeter.ProcessTicks(p.Id)), CpuMeter.ProcessTicks(server.ProcessId), CpuMeter.ProcessTicks(Environment.ProcessId));

    private static async Task<long> SamplePeakMemoryAsync(RedisProcess server, CancellationToken stop)
    {
        long peak = 0;
        while (!stop.IsCancellationRequested)
        {
            peak = Math.Max(peak, await server.UsedMemoryAsync());
            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return peak;
    }

    /// <summary>Average MEMORY USAGE of sampled delivery keys and of the wamid index keys next to them.</summary>
    /// <summary>The mean size of a delivery's gate key; sends write no other per-delivery key (the index figure stays 0).</summary>
    private static async Task<(double Delivery, double Index)> SampleKeySizesAsync(RedisProcess server, string announcementId, int employees)
    {
        var random = new Random(7);
        long deliveryTotal = 0;
        var samples = Math.Min(200, employees);
        for (var s = 0; s < samples; s++)
        {
            var employee = BenchWorld.EmployeeId(random.Next(employees));
            // None once the announcement is folded (scenario 12 measures the buckets).
            var gate = await server.Db.ExecuteAsync("MEMORY", "USAGE", RedisKeys.Delivery(announcementId, employee).ToString(), "SAMPLES", "0");
            if (!gate.IsNull) deliveryTotal += (long)gate;
        }
        return ((double)deliveryTotal / samples, 0);
    }
}
