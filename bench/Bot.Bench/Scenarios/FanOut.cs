using Bot.Bench.Infrastructure;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenarios 1 and 1b: one announcement to every employee with no rate cap, 1 or 3 dispatchers; with 1 dispatcher
/// also 4 (Redis memory per delivery), 5 (dispatcher footprint) and 7 (Redis commands per delivery). 1c: the same
/// on a Redis with AOF <c>appendfsync always</c>.
/// </summary>
public static class FanOut
{
    /// <returns>The run, whose 'sent' deliveries scenario 6 turns 'delivered'.</returns>
    public static async Task<FanOutRun.Run> RunAsync(BenchWorld world, ScenarioResult result, int dispatchers)
    {
        var run = await FanOutRun.RunAsync(world, result, world.Redis, world.Options.FanOutEmployees, dispatchers, noRateCap: true);
        var perDelivery = run.Employees;
        result.Add("deliveries/s (create → completed)", run.Employees / run.Elapsed.TotalSeconds, "/s", "≥ 5,000/s",
            run.Employees / run.Elapsed.TotalSeconds >= 5_000);
        result.Add("deliveries/s (first → last send)", run.SendRate, "/s");
        result.Add("create → first send", run.FirstSendMs, "ms");
        if (dispatchers > 1) return run;

        // 4: Redis memory per delivery
        var bytes = (double)run.MemoryDelta / perDelivery;
        result.Add("Redis used_memory delta per delivery", bytes, "B", "≤ 120 B", bytes <= 120);
        if (run.DeliveryKeyBytes > 0) result.Add("  of which the delivery key (MEMORY USAGE, sampled)", run.DeliveryKeyBytes, "B");
        if (run.MessageIndexKeyBytes > 0) result.Add("  of which the wamid index key (MEMORY USAGE, sampled)", run.MessageIndexKeyBytes, "B");
        result.Add("  rest: folded records, hash-table buckets, expiry entries, audience list (scenario 12 breaks it down)",
            bytes - run.DeliveryKeyBytes - run.MessageIndexKeyBytes, "B");
        result.Add("Redis keys per delivery", (double)run.KeysDelta / perDelivery, "");

        // 5: dispatcher footprint
        var rssMb = run.PeakRss / 1024.0 / 1024.0;
        result.Add("dispatcher peak RSS", rssMb, "MB", "≤ 200 MB", rssMb <= 200);
        result.Add("dispatcher allocated per delivery", (double)run.Allocated / perDelivery, "B");
        result.Notes.Add($"dispatcher garbage collections during the fan-out: gen0 {run.Gen0}, gen1 {run.Gen1}, gen2 {run.Gen2}");

        // 7: Redis round trips
        result.Add("Redis commands sent per delivery (client)", (double)run.ClientOperations / perDelivery, "");
        result.Add("Redis commands executed per delivery (server, incl. inside Lua)", run.ServerCommands / perDelivery, "");
        result.CommandsPerDelivery = run.CommandCalls.ToDictionary(kv => kv.Key, kv => Math.Round((double)kv.Value / perDelivery, 4));
        return run;
    }

    public static async Task WithAofAsync(BenchWorld world, ScenarioResult result)
    {
        await using var durable = await RedisProcess.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        var run = await FanOutRun.RunAsync(world, result, durable, world.Options.FanOutEmployees, 1, noRateCap: true);
        result.Add("deliveries/s (create → completed)", run.Employees / run.Elapsed.TotalSeconds, "/s");
        result.Add("deliveries/s (first → last send)", run.SendRate, "/s");
        result.Notes.Add("Same as 1 with the persistence README's 'Delivery guarantees' asks for; the disk is this machine's.");
    }
}
