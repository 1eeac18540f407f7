using System.Globalization;
using System.Text.Json;
using Bot.Bench.Infrastructure;
using Bot.Tools.WhatsAppStub;

namespace Bot.Bench.Scenarios;

/// <summary>
/// <c>--peer bullmq</c>: the project's fan-out (one dispatcher process, as scenario 1) and BullMQ doing the same
/// fan-out (bench/peers/bullmq: one job per delivery with jobId dedupe, a worker POSTing each to the same WhatsApp
/// stand-in over kept-alive connections, concurrency 64), alternately, each on a fresh redis-server with the same
/// arguments: first with AOF <c>appendfsync always</c> (the shipped durability), then without AOF. BullMQ runs twice per
/// round: keeping completed jobs (its default, and what dedupes a second add after completion, as the project's delivery
/// records do) and removing them (its fastest). Both keep 64 requests in flight (the project's
/// <c>Dispatcher:MaxConcurrentSends</c>, BullMQ's worker concurrency). Prints deliveries/s of each and a ratio against each
/// BullMQ variant, and the ratio of CPU per delivery (queue process + redis-server), which a busy machine disturbs less.
/// </summary>
public static class PeerComparison
{
    /// <summary>The Redis settings compared; the ratio targets are issue 28's, set with AOF <c>always</c> only.</summary>
    private static readonly (string Name, string[] Args, bool Targeted)[] Settings =
    [
        ("AOF always", ["--appendonly", "yes", "--appendfsync", "always"], true),
        ("no AOF", [], false),
    ];

    /// <summary>BullMQ's two retention choices, and the ratio the project aims for against each (here and end to end).</summary>
    internal static readonly (string Name, bool KeepCompleted, double Target)[] Variants =
    [
        ("keeping completed jobs", true, 2.0),
        ("removing completed jobs", false, 1.6),
    ];

    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        var count = world.Options.PeerDeliveries;
        result.Settings["deliveries"] = count.ToString(CultureInfo.InvariantCulture);
        result.Settings["peer"] = "bench/peers/bullmq: Queue.addBulk (1,000 jobs a call, jobId dedupe), Worker concurrency 64, " +
            "a POST per job over a keep-alive http.Agent; completed jobs kept, then removed (removeOnComplete)";
        foreach (var (name, args, targeted) in Settings)
        {
            var ours = new List<double>();
            var ourCpu = new List<double>();
            var theirs = Variants.ToDictionary(v => v.Name, _ => new List<double>());
            var theirCpu = Variants.ToDictionary(v => v.Name, _ => new List<double>());
            for (var round = 1; round <= world.Options.PeerRounds; round++)
            {
                await using (var server = await RedisProcess.StartAsync(args))
                {
                    var load = BenchWorld.LoadAverage();
                    var run = await FanOutRun.RunAsync(world, result, server, count, dispatchers: 1, noRateCap: true, SameConcurrency);
                    ours.Add(count / run.Elapsed.TotalSeconds);
                    ourCpu.Add((run.Cpu.Dispatchers + run.Cpu.Redis) * 1e6 / count);
                    DeliveryCost.AddCpuSplit(result, run, count, $"{name} round {round}: project ");
                    result.Notes.Add($"{name}, round {round}: project {ours[^1]:N0}/s (load average before: {load})");
                }
                foreach (var variant in Variants)
                {
                    await using var server = await RedisProcess.StartAsync(args);
                    var load = BenchWorld.LoadAverage();
                    var label = $"{name} round {round}, {variant.Name}: ";
                    var (rate, cpu) = await PeerRunAsync(world, result, server, count, variant.KeepCompleted, label);
                    theirs[variant.Name].Add(rate);
                    theirCpu[variant.Name].Add(cpu);
                    result.Notes.Add($"{label}BullMQ {theirs[variant.Name][^1]:N0}/s (load average before: {load})");
                }
            }
            result.Settings[$"redis ({name})"] = "redis-server --save \"\" --appendonly no " + string.Join(' ', args);
            result.Add($"project deliveries/s, {name} (create → completed, mean of {ours.Count})", ours.Average(), "/s");
            foreach (var variant in Variants)
            {
                var peer = theirs[variant.Name].Average();
                result.Add($"BullMQ deliveries/s, {name}, {variant.Name} (first add → last completed, mean of {theirs[variant.Name].Count})", peer, "/s");
                var ratio = ours.Average() / peer;
                if (targeted) result.Add($"ratio project / BullMQ {variant.Name}, {name}", ratio, "×", $"≥ {variant.Target:0.0}×", ratio >= variant.Target);
                else result.Add($"ratio project / BullMQ {variant.Name}, {name}", ratio, "×");
                result.Add($"CPU per delivery (queue process + redis-server), BullMQ {variant.Name} / project, {name}",
                    theirCpu[variant.Name].Average() / ourCpu.Average(), "×");
            }
        }
    }

    private static readonly Dictionary<string, string> SameConcurrency = new() { ["Dispatcher:MaxConcurrentSends"] = "64" };

    /// <summary>
    /// One BullMQ fan-out of <paramref name="count"/> deliveries, after checking each phone got exactly one: its deliveries/s,
    /// and the CPU µs node and redis-server spent per delivery.
    /// </summary>
    private static async Task<(double Rate, double Cpu)> PeerRunAsync(BenchWorld world, ScenarioResult result, RedisProcess server, int count, bool keepCompleted, string label)
    {
        world.WhatsApp.Reset(count);
        await using var peer = await ChildProcess.StartPeerAsync("bullmq",
            ["--redis", server.ConnectionString, "--whatsapp", world.WhatsApp.Url, "--phone-number-id", WhatsAppStubServer.PhoneNumberId,
             "--token", BenchWorld.AccessToken, "--count", count.ToString(CultureInfo.InvariantCulture),
             "--warm-up", world.Options.WarmUpDeliveries.ToString(CultureInfo.InvariantCulture), "--keep-completed", keepCompleted ? "true" : "false"],
            TimeSpan.FromMinutes(3));
        world.WhatsApp.Reset(count);
        var memoryBefore = await server.UsedMemoryAsync();
        var (nodeBefore, redisBefore, benchBefore) = (CpuMeter.ProcessTicks(peer.Id), CpuMeter.ProcessTicks(server.ProcessId), CpuMeter.ProcessTicks(Environment.ProcessId));
        var answer = await peer.AskAsync("go", TimeSpan.FromSeconds(120 + count / 40.0));
        var (nodeAfter, redisAfter, benchAfter) = (CpuMeter.ProcessTicks(peer.Id), CpuMeter.ProcessTicks(server.ProcessId), CpuMeter.ProcessTicks(Environment.ProcessId));
        result.Add($"{label}BullMQ CPU µs per delivery: node (producer + worker)", (nodeAfter - nodeBefore) * 1e4 / count, "µs");
        result.Add($"{label}BullMQ CPU µs per delivery: redis-server", (redisAfter - redisBefore) * 1e4 / count, "µs");
        result.Add($"{label}BullMQ CPU µs per delivery: WhatsApp stand-in (bench process)", (benchAfter - benchBefore) * 1e4 / count, "µs");
        using var json = JsonDocument.Parse(answer["result ".Length..]);
        var seconds = json.RootElement.GetProperty("seconds").GetDouble();
        var log = world.WhatsApp.Snapshot();
        result.Require(label + "BullMQ 0 duplicates", log.Duplicates == 0, $"{log.Duplicates} duplicate sends");
        var reached = Enumerable.Range(0, count).Count(i => log.PerRecipient.ContainsKey(BenchWorld.Phone(BenchWorld.EmployeeId(i))));
        result.Require(label + "BullMQ all delivered", reached == count, $"{reached} of {count} phones got it");
        result.Add($"{label}BullMQ Redis used_memory per delivery at rest",
            (double)(await server.UsedMemoryAsync() - memoryBefore) / count, "B");
        return (count / seconds, (nodeAfter - nodeBefore + redisAfter - redisBefore) * 1e4 / count);
    }
}
