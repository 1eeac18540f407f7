using System.Text.RegularExpressions;
using Bot.Bench.Infrastructure;
using StackExchange.Redis;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 12: what one delivery costs Redis. One announcement to every employee (one dispatcher, no rate cap, no
/// AOF), then: used_memory above the start at its peak while dispatching and at rest once completed, per delivery;
/// MEMORY USAGE of every kind of key the fan-out left (sampled), and the write commands Redis executed per delivery
/// (INFO commandstats counts commands run inside Lua too; a command is a write when COMMAND INFO flags it so).
/// </summary>
public static partial class DeliveryCost
{
    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        var employees = world.Options.CostDeliveries;
        var run = await FanOutRun.RunAsync(world, result, world.Redis, employees, dispatchers: 1, noRateCap: true);
        var keys = await KeyKindsAsync(world.Redis, run.AnnouncementId);

        var during = (double)run.PeakMemoryDelta / employees;
        var rest = (double)run.MemoryDelta / employees;
        result.Add("Redis bytes per delivery while dispatching (peak used_memory delta / deliveries)", during, "B", "≤ 250 B", during <= 250);
        result.Add("Redis bytes per delivery at rest (used_memory delta after completion / deliveries)", rest, "B", "≤ 120 B", rest <= 120);
        foreach (var (kind, names) in keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var usage = await SampleUsageAsync(world.Redis, names);
            result.Add($"  {kind}: {names.Count:N0} keys × {usage:N0} B (MEMORY USAGE, sampled) / delivery", names.Count * usage / employees, "B");
        }
        result.Notes.Add("Key kinds: the announcement's own keys. The rest of " +
                         "used_memory's delta is the keyspace's hash table and expiry entries.");

        var writeCommands = await WriteCommandsAsync(world.Redis, run.CommandCalls.Keys);
        var writes = run.CommandCalls.Where(c => writeCommands.Contains(c.Key)).ToList();
        var perDelivery = (double)writes.Sum(w => w.Value) / employees;
        // A delivery's own writes are its claim (SET) and its record (HSET into its bucket); the rest are per script call,
        // shared by the deliveries of one group write (the DEL of the claims whose records moved, a HINCRBY per counter
        // that changed) or of one bucket (its PEXPIRE).
        var own = (double)writes.Where(w => w.Key is "set" or "hset").Sum(w => w.Value) / employees;
        result.Add("Redis write commands per delivery (incl. inside Lua)", perDelivery, "");
        // Rounded as printed: the count is the server's, so the run's few other SETs (the sender's lock) are in it.
        result.Add("  of which its own: the claim's SET and the record's HSET", own, "", "≤ 2", Math.Round(own, 2) <= 2);
        foreach (var (command, calls) in writes.OrderByDescending(w => w.Value))
            result.Add($"  {command}", (double)calls / employees, "");
        result.Add("Redis commands per delivery, all (incl. inside Lua)", run.ServerCommands / employees, "");
        result.Add("deliveries/s (create → completed)", employees / run.Elapsed.TotalSeconds, "/s");
        AddCpuSplit(result, run, employees, "");
        result.CommandsPerDelivery = run.CommandCalls.ToDictionary(kv => kv.Key, kv => Math.Round((double)kv.Value / employees, 4));
    }

    /// <summary>Where the CPU went: what bounds the fan-out on a 2-core machine shared by all three.</summary>
    public static void AddCpuSplit(ScenarioResult result, FanOutRun.Run run, int deliveries, string label)
    {
        var (dispatchers, redis, bench) = run.Cpu;
        result.Add($"{label}CPU µs per delivery: dispatcher", dispatchers * 1e6 / deliveries, "µs");
        // What the JIT still did in the timed run (JitInfo: time inside the compiler on any thread), a warm-up too short shows here.
        result.Add($"{label}  of which its JIT compiling ({run.Jit.Methods:N0} methods)", run.Jit.Seconds * 1e6 / deliveries, "µs");
        result.Add($"{label}CPU µs per delivery: redis-server", redis * 1e6 / deliveries, "µs");
        result.Add($"{label}CPU µs per delivery: WhatsApp stand-in (bench process)", bench * 1e6 / deliveries, "µs");
        result.Add($"{label}CPU busy share of 2 cores (dispatcher + redis + stand-in)",
            100 * (dispatchers + redis + bench) / (2 * run.Elapsed.TotalSeconds), "%");
        result.Add($"{label}dispatcher allocated per delivery", (double)run.Allocated / deliveries, "B");
        result.Notes.Add($"{label}dispatcher garbage collections: gen0 {run.Gen0}, gen1 {run.Gen1}, gen2 {run.Gen2}");
    }

    /// <summary>
    /// The announcement's keys and the wamid index's, grouped by shape: hash tags and the part of a key after ':d:' or
    /// ':f:' (one key per delivery or bucket) become placeholders.
    /// </summary>
    private static async Task<Dictionary<string, List<string>>> KeyKindsAsync(RedisProcess server, string announcementId)
    {
        var kinds = new Dictionary<string, List<string>>();
        await foreach (var key in server.Server.KeysAsync(pageSize: 1_000))
        {
            var name = (string)key!;
            if (!name.StartsWith($"ann:{{{announcementId}}}", StringComparison.Ordinal) && !name.StartsWith("msg:", StringComparison.Ordinal)) continue;
            var kind = Shape().Replace(name, m => m.Groups["open"].Value + "…" + m.Groups["close"].Value);
            if (!kinds.TryGetValue(kind, out var list)) kinds[kind] = list = [];
            list.Add(name);
        }
        return kinds;
    }

    [GeneratedRegex(@"(?<open>\{)[^}]*(?<close>\})|(?<open>:[df]:)[^:]+(?<close>)")]
    private static partial Regex Shape();

    private static async Task<double> SampleUsageAsync(RedisProcess server, List<string> keys)
    {
        var random = new Random(12);
        var samples = Math.Min(200, keys.Count);
        long total = 0;
        for (var i = 0; i < samples; i++)
        {
            var usage = await server.Db.ExecuteAsync("MEMORY", "USAGE", keys[random.Next(keys.Count)], "SAMPLES", "0");
            if (!usage.IsNull) total += (long)usage;
        }
        return (double)total / samples;
    }

    /// <summary>Which of these commands Redis flags as writes (COMMAND INFO).</summary>
    private static async Task<HashSet<string>> WriteCommandsAsync(RedisProcess server, IEnumerable<string> commands)
    {
        var writes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var command in commands)
        {
            if (command.Contains('|', StringComparison.Ordinal)) continue; // subcommands (client|…, config|…): the bench's own
            var info = await server.Db.ExecuteAsync("COMMAND", "INFO", command);
            if (info.Resp2Type != ResultType.Array || ((RedisResult[])info!).FirstOrDefault() is not { IsNull: false } entry) continue;
            var flags = (RedisResult[])((RedisResult[])entry!)[2]!;
            if (flags.Any(f => (string?)f == "write")) writes.Add(command);
        }
        return writes;
    }
}
