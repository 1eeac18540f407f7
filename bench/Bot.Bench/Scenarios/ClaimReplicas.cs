using System.Globalization;
using Bot.Bench.Infrastructure;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 13: what waiting for a replica costs. One announcement to every employee, no rate cap, one dispatcher, on a
/// primary with one replica (both on loopback, no AOF), first with <c>Redis:ClaimReplicas=0</c> (no WAIT, as on one
/// Redis), then <c>auto</c> (1 here: a WAIT on the primary before every send, shared by the claims made together).
/// </summary>
public static class ClaimReplicas
{
    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        await using var primary = await RedisProcess.StartAsync();
        await using var replica = await RedisProcess.StartAsync("--replicaof", "127.0.0.1", primary.Port.ToString(CultureInfo.InvariantCulture));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await primary.InfoAsync("replication")).Values.Any(v => v.Contains("state=online", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException("the replica did not come online within 30 s");
            await Task.Delay(50);
        }
        var employees = world.Options.FanOutEmployees / 5;

        var off = await FanOutRun.RunAsync(world, result, primary, employees, 1, noRateCap: true, new Dictionary<string, string> { ["Redis:ClaimReplicas"] = "0" });
        var on = await FanOutRun.RunAsync(world, result, primary, employees, 1, noRateCap: true, new Dictionary<string, string> { ["Redis:ClaimReplicas"] = "auto" });
        result.Settings["redis"] = $"{primary.Description}, and a replica of it (--replicaof), same machine";

        var offRate = employees / off.Elapsed.TotalSeconds;
        var onRate = employees / on.Elapsed.TotalSeconds;
        result.Add("deliveries/s, Redis:ClaimReplicas=0 (create → completed)", offRate, "/s");
        result.Add("deliveries/s, Redis:ClaimReplicas=auto, 1 replica (create → completed)", onRate, "/s");
        result.Add("throughput kept with the WAIT", 100 * onRate / offRate, "%");
        result.Add("WAIT commands per delivery (auto)", (double)on.CommandCalls.GetValueOrDefault("wait") / employees, "");
        result.Add("WAIT commands per delivery (0)", (double)off.CommandCalls.GetValueOrDefault("wait") / employees, "", "0", off.CommandCalls.GetValueOrDefault("wait") == 0);
    }
}
