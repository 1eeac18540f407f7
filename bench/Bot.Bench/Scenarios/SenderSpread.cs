using System.Diagnostics;
using System.Globalization;
using Bot.Bench.Infrastructure;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Redis;
using Bot.Testing;
using StackExchange.Redis;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 11, scale-out: 8 employers, each on its own sender (WhatsApp number), 12,500 employees each; one announcement
/// per employer, all at once (100,000 deliveries), no rate cap. On one Redis and on a three-master Redis Cluster, with 1, 2
/// and 4 dispatcher replicas (processes): deliveries/s, the sender locks each replica holds and its share of the sends,
/// CPU per delivery (dispatchers and Redis) and Redis commands per delivery (summed over the cluster's nodes). On a
/// 2-core machine throughput cannot grow with replicas; the shares show they work in parallel.
/// </summary>
public static class SenderSpread
{
    private const int TicksPerSecond = 100; // /proc clock ticks

    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        var options = world.Options;
        var total = options.SpreadSenders * options.SpreadEmployeesPerSender;
        result.Settings["senders × employees"] = $"{options.SpreadSenders} × {options.SpreadEmployeesPerSender:N0} = {total:N0} deliveries, one announcement per sender, created together";
        result.Settings["dispatchers"] = $"{string.Join(", ", options.SpreadReplicas)} replicas (processes of Bot.Bench --role dispatcher; sender locks on)";
        result.Settings["rate cap"] = "none (limiter replaced)";

        await world.Redis.ResetAsync();
        await RunOnAsync(world, result, new Target("redis", world.Redis.ConnectionString, world.Redis.Connection));

        await using var cluster = await RedisCluster.StartAsync();
        // The fixture runs the shipped durability (AOF always); the single Redis here has none, so neither does the cluster.
        foreach (var node in Masters(cluster.Connection)) await node.ExecuteAsync("CONFIG", "SET", "appendonly", "no");
        result.Settings["cluster"] = $"3 masters on loopback (redis-cli --cluster create, no replicas), --appendonly no like the single Redis";
        await RunOnAsync(world, result, new Target("cluster", cluster.ConnectionString, cluster.Connection));
    }

    private sealed record Target(string Name, string ConnectionString, IConnectionMultiplexer Connection)
    {
        public IDatabase Db => Connection.GetDatabase();
    }

    private static IServer[] Masters(IConnectionMultiplexer connection) =>
        [.. connection.GetServers().Where(s => s.IsConnected && !s.IsReplica)];

    private static async Task RunOnAsync(BenchWorld world, ScenarioResult result, Target target)
    {
        var options = world.Options;
        var per = options.SpreadEmployeesPerSender;
        for (var k = 0; k < options.SpreadSenders; k++)
            await BenchWorld.SeedEmployeesAsync(target.Db, per, EmployerOf(k), first: k * per);
        foreach (var replicas in options.SpreadReplicas) await RunAsync(world, result, target, replicas);
    }

    private static async Task RunAsync(BenchWorld world, ScenarioResult result, Target target, int replicas)
    {
        var options = world.Options;
        var senders = options.SpreadSenders;
        var per = options.SpreadEmployeesPerSender;
        var total = senders * per;
        var label = $"{target.Name}, {replicas} replica{(replicas == 1 ? "" : "s")}";
        var share = (senders + replicas - 1) / replicas;

        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = target.ConnectionString,
            ["WhatsApp:BaseUrl"] = world.WhatsApp.Url,
            // No default sender: exactly the eight.
            ["WhatsApp:PhoneNumberId"] = "",
            ["Dispatcher:Enabled"] = "true",
            ["Dispatcher:PollInterval"] = "00:00:00.250",
            [DispatcherRole.UnlimitedKey] = "true",
        };
        for (var k = 0; k < senders; k++)
        {
            settings[$"Senders:{SenderOf(k)}:PhoneNumberId"] = $"1000000000{k:D5}";
            settings[$"Senders:{SenderOf(k)}:AccessToken"] = BenchWorld.AccessToken;
            settings[$"Senders:{SenderOf(k)}:MessagesPerSecond"] = "1000";
            settings[$"Employers:{EmployerOf(k)}:Sender"] = SenderOf(k);
        }
        var processes = await Task.WhenAll(Enumerable.Range(0, replicas).Select(i => ChildProcess.StartDispatcherAsync($"{target.Name}-dispatcher-{i + 1}", settings)));
        try
        {
            var held = await SettledSpreadAsync(processes, senders, share);
            await WarmUpAsync(world, target, senders, per);

            world.WhatsApp.Reset(total);
            var before = await Task.WhenAll(processes.Select(p => p.StatsAsync()));
            var dispatcherCpu = processes.Sum(p => CpuMeter.ProcessTicks(p.Id));
            var (redisCpu, commands) = await ServerTotalsAsync(target);

            var clock = Stopwatch.StartNew();
            var ids = await Task.WhenAll(Enumerable.Range(0, senders).Select(k => CreateAsync(target, EmployerOf(k), null)));
            await WaitForCompletionAsync(world, target, ids, total, TimeSpan.FromSeconds(60 + total / 500.0));
            var elapsed = clock.Elapsed;

            var after = await Task.WhenAll(processes.Select(p => p.StatsAsync()));
            var dispatcherCpuAfter = processes.Sum(p => CpuMeter.ProcessTicks(p.Id));
            var (redisCpuAfter, commandsAfter) = await ServerTotalsAsync(target);
            var log = world.WhatsApp.Snapshot();
            var stores = BenchWorld.Stores(target.Db);
            var counts = await Task.WhenAll(ids.Select(id => stores.Announcements.CountsAsync(id)));
            BenchWorld.CheckExactlyOnce(result, log, total, counts, label + ": ");
            result.Require($"{label}: at most {share} sender locks per replica, every sender held",
                held.All(h => h.Length <= share) && held.SelectMany(h => h).Distinct().Count() == senders,
                string.Join(" | ", held.Select(h => string.Join(",", h))));
            var stable = after.Select(a => a.Senders.Order().ToArray()).Zip(held).All(p => p.First.SequenceEqual(p.Second));
            result.Require($"{label}: no sender moved during the run", stable, string.Join(" | ", after.Select(a => string.Join(",", a.Senders))));

            result.Add($"{label}: deliveries/s (create → all completed)", total / elapsed.TotalSeconds, "/s");
            var sendsBySender = SendsBySender(log, senders, per);
            for (var i = 0; i < replicas; i++)
            {
                var sends = held[i].Sum(s => sendsBySender[s]);
                result.Add($"{label}: replica {i + 1} share of sends ({held[i].Length} sender locks: {string.Join(",", held[i])})", 100.0 * sends / total, "%");
            }
            result.Add($"{label}: dispatcher CPU per delivery (all replicas)", (dispatcherCpuAfter - dispatcherCpu) * 1e6 / TicksPerSecond / total, "µs");
            result.Add($"{label}: Redis CPU per delivery (all nodes)", (redisCpuAfter - redisCpu) * 1e6 / TicksPerSecond / total, "µs");
            result.Add($"{label}: Redis commands per delivery (total_commands_processed, all nodes)", (double)(commandsAfter - commands) / total, "");
            result.Add($"{label}: client operations per delivery (dispatchers)",
                (double)after.Zip(before).Sum(p => p.First.RedisOperations - p.Second.RedisOperations) / total, "");
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
        }
    }

    private static string SenderOf(int k) => $"s{k + 1}";

    private static string EmployerOf(int k) => $"bench-s{k + 1}";

    /// <summary>Waits until every sender is held and none of the replicas holds more than its share; returns each one's senders.</summary>
    private static async Task<string[][]> SettledSpreadAsync(ChildProcess[] processes, int senders, int share)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var held = (await Task.WhenAll(processes.Select(p => p.StatsAsync()))).Select(s => s.Senders.Order().ToArray()).ToArray();
            if (held.All(h => h.Length <= share) && held.Sum(h => h.Length) == senders && held.SelectMany(h => h).Distinct().Count() == senders)
                return held;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the senders did not spread within 60 s: {string.Join(" | ", held.Select(h => string.Join(",", h)))}");
            await Task.Delay(100);
        }
    }

    /// <summary>A small announcement per sender, untimed, so the measured run is no fresh process's first.</summary>
    private static async Task WarmUpAsync(BenchWorld world, Target target, int senders, int per)
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, senders).Select(k =>
            CreateAsync(target, EmployerOf(k), [.. Enumerable.Range(k * per, Math.Min(per, 20)).Select(BenchWorld.EmployeeId)])));
        world.WhatsApp.Reset(senders * 20);
        await WaitForCompletionAsync(world, target, ids, 0, TimeSpan.FromSeconds(30));
    }

    private static async Task<string> CreateAsync(Target target, string employerId, IReadOnlyList<string>? employeeIds)
    {
        var sender = employerId["bench-".Length..];
        var (outcome, id) = await BenchWorld.Stores(target.Db).Announcements.CreateAsync(
            new NewAnnouncement(employerId, BenchWorld.Message, null, null, employeeIds), null, sender);
        if (outcome != CreateOutcome.Created) throw new InvalidOperationException($"announcement not created: {outcome}");
        return id;
    }

    private static async Task WaitForCompletionAsync(BenchWorld world, Target target, string[] ids, int expectedSends, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (world.WhatsApp.Count < expectedSends)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{world.WhatsApp.Count} of {expectedSends} sends after {timeout.TotalSeconds:N0} s");
            await Task.Delay(5);
        }
        foreach (var id in ids)
        {
            while ((string?)await target.Db.HashGetAsync(RedisKeys.Announcement(id), "status") != AnnouncementStatus.Completed)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"announcement {id} not completed after {timeout.TotalSeconds:N0} s");
                await Task.Delay(5);
            }
        }
    }

    /// <summary>CPU ticks of every redis-server (found through INFO's process_id) and commands they processed, summed over the nodes.</summary>
    private static async Task<(long CpuTicks, long Commands)> ServerTotalsAsync(Target target)
    {
        long cpu = 0, commands = 0;
        foreach (var server in Masters(target.Connection))
        {
            var info = (await server.InfoAsync()).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
            cpu += CpuMeter.ProcessTicks(int.Parse(info["process_id"], CultureInfo.InvariantCulture));
            commands += long.Parse(info["total_commands_processed"], CultureInfo.InvariantCulture);
        }
        return (cpu, commands);
    }

    /// <summary>Sends per sender, from the phones the stand-in saw: employer k's employees are numbers k × per … (k + 1) × per − 1.</summary>
    private static Dictionary<string, long> SendsBySender(SendLog log, int senders, int per)
    {
        var result = Enumerable.Range(0, senders).ToDictionary(SenderOf, _ => 0L);
        foreach (var (phone, sends) in log.PerRecipient)
        {
            var k = int.Parse(phone[^7..], CultureInfo.InvariantCulture) / per;
            if (k < senders) result[SenderOf(k)] += sends;
        }
        return result;
    }
}
