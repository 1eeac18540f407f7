using System.Diagnostics;
using System.Globalization;
using Bot.Bench.Infrastructure;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Redis;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 9: five big fan-outs, one per employer, share one sender at its cap — first alone, then with one-employee
/// "send now" announcements from other employers created at random moments meanwhile. Measures the small ones' due →
/// first send and what they cost the big ones, whose total time should not change.
/// </summary>
public static class FairDispatch
{
    private sealed record Pass(TimeSpan Total, SendLog Log, Dictionary<string, long> CreatedAt);

    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        var options = world.Options;
        var (bigCount, perBig, smallCount, cap) = (options.FairBigAnnouncements, options.FairBigEmployees, options.FairSmallAnnouncements, options.FairRateCap);
        var server = world.Redis;
        await server.ResetAsync();
        // Employer k's employees are k·perBig…; the small employers' one employee each come after all of them.
        var bigEmployers = Enumerable.Range(1, bigCount).Select(k => $"bench-big-{k}").ToArray();
        var smallEmployers = Enumerable.Range(1, smallCount).Select(s => $"bench-small-{s:D2}").ToArray();
        for (var k = 0; k < bigCount; k++) await BenchWorld.SeedEmployeesAsync(server, perBig, bigEmployers[k], first: k * perBig);
        for (var s = 0; s < smallCount; s++) await BenchWorld.SeedEmployeesAsync(server, 1, smallEmployers[s], first: bigCount * perBig + s);

        // The small ones arrive while the big ones are well under way and far from done.
        var ideal = TimeSpan.FromSeconds((double)bigCount * perBig / cap);
        var random = new Random(42);
        var moments = Enumerable.Range(0, smallCount).Select(_ => ideal * (0.1 + 0.7 * random.NextDouble())).Order().ToArray();
        result.Settings["big"] = $"{bigCount} announcements × {perBig:N0} employees, one employer each, all created at once";
        result.Settings["small"] = $"{smallCount} 'send now' to 1 employee, one other employer each, created at random moments 10–80 % into the big ones' ideal {ideal.TotalSeconds:N0} s (seed 42)";
        result.Settings["rate cap"] = $"WhatsApp:MessagesPerSecond={cap}, one sender for every employer";
        result.Settings["dispatchers"] = "1 process (Bot.Scheduler's wiring, defaults: MaxParallelAnnouncements 32, RedLock on)";
        result.Settings["redis"] = server.Description;

        var processes = await world.StartDispatchersAsync(server, 1, cap);
        try
        {
            await world.WarmUpAsync(server, processes.Length, world.Options.CappedWarmUpDeliveries);
            var alone = await FanOutAsync(world, result, bigEmployers, perBig, [], "alone: ");
            var shared = await FanOutAsync(world, result, bigEmployers, perBig, [.. smallEmployers.Zip(moments)], "with small ones: ");

            var difference = (shared.Total - alone.Total) / alone.Total * 100;
            result.Add("big ones alone (first create → last completed)", alone.Total.TotalSeconds, "s", $"{ideal.TotalSeconds:N0} s + 1%",
                alone.Total <= ideal * 1.01);
            result.Add("big ones beside the small ones", shared.Total.TotalSeconds, "s");
            result.Add("difference", difference, "%", "≤ 2 %", difference <= 2);

            var latencies = new List<double>();
            var sendsAhead = new List<double>();
            foreach (var (id, createdTicks) in shared.CreatedAt)
            {
                if (!shared.Log.FirstByAnnouncement.TryGetValue(id, out var first))
                {
                    latencies.Add(double.PositiveInfinity);
                    continue;
                }
                latencies.Add(TimeSpan.FromTicks(first - createdTicks).TotalMilliseconds);
                // Counted in sends, so a busy machine does not change it: how many of the cap's slots went to others first.
                sendsAhead.Add(Count(shared.Log.Arrivals, createdTicks, first));
            }
            var stats = Stats.Of(latencies);
            result.Add("small: due → first send p50", stats.P50, "ms");
            result.Add("small: due → first send p99", stats.P99, "ms", "≤ 1,000 ms", stats.P99 <= 1_000);
            result.Add("small: due → first send max", stats.Max, "ms");
            var ahead = Stats.Of(sendsAhead);
            result.Add("small: sends to others between due and its send, p50", ahead.P50, "");
            result.Add("small: sends to others between due and its send, max", ahead.Max, "");
            foreach (var (name, pass) in new[] { ("alone", alone), ("with small ones", shared) })
            {
                var window = pass.Log.LargestOneSecondWindow();
                result.Add($"largest 1-s window (sliding), {name}", window, "sends", $"≤ {cap * 1.02:N0}", window <= cap * 1.02);
            }
            result.Require("every small one sent", latencies.All(double.IsFinite), $"{latencies.Count(double.IsFinite)} of {smallCount}");
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
        }
    }

    /// <summary>
    /// One announcement to every employee of each big employer, all created at once; each small one created at its
    /// moment. Returns the big ones' first create → last completed (Redis's stamps) and each small one's creation (UTC ticks).
    /// </summary>
    private static async Task<Pass> FanOutAsync(
        BenchWorld world, ScenarioResult result, string[] bigEmployers, int perBig, (string Employer, TimeSpan At)[] small, string label)
    {
        var server = world.Redis;
        var employees = bigEmployers.Length * perBig + small.Length;
        world.WhatsApp.Reset(employees);
        var clock = Stopwatch.StartNew();
        var big = await Task.WhenAll(bigEmployers.Select(e => BenchWorld.CreateAnnouncementAsync(server, sendAt: null, employeeIds: null, e)));
        var smallIds = new List<string>();
        foreach (var (employer, at) in small)
        {
            if (at > clock.Elapsed) await Task.Delay(at - clock.Elapsed);
            smallIds.Add(await BenchWorld.CreateAnnouncementAsync(server, sendAt: null, employeeIds: null, employer));
        }

        var deadline = DateTime.UtcNow.AddSeconds(60 + 2.0 * employees / world.Options.FairRateCap);
        while (world.WhatsApp.Count < employees && DateTime.UtcNow < deadline) await Task.Delay(20);
        var all = big.Concat(smallIds).ToArray();
        while (!await AllCompletedAsync(server, all) && DateTime.UtcNow < deadline) await Task.Delay(20);
        var log = world.WhatsApp.Snapshot();

        var stores = BenchWorld.Stores(server);
        BenchWorld.CheckExactlyOnce(result, log, employees, await Task.WhenAll(all.Select(stores.Announcements.CountsAsync)), label);
        var stamps = await Task.WhenAll(all.Select(id => server.Db.HashGetAsync(RedisKeys.Announcement(id), ["createdAt", "completedAt"])));
        var bigStamps = stamps.Take(big.Length).ToArray();
        if (bigStamps.Any(s => s[1].IsNull)) throw new TimeoutException($"{label}big announcements not completed by the deadline");
        var total = TimeSpan.FromMilliseconds(bigStamps.Max(s => (long)s[1]) - bigStamps.Min(s => (long)s[0]));
        var createdAt = smallIds.Zip(stamps.Skip(big.Length)).ToDictionary(p => p.First, p => Clock.FromUnixMs((long)p.Second[0]).UtcTicks);
        result.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"{label}{log.Total:N0} sends, first → last {TimeSpan.FromTicks(log.Arrivals[^1] - log.Arrivals[0]).TotalSeconds:N2} s"));
        return new Pass(total, log, createdAt);
    }

    private static async Task<bool> AllCompletedAsync(RedisProcess server, string[] ids)
    {
        foreach (var id in ids)
        {
            if ((string?)await server.Db.HashGetAsync(RedisKeys.Announcement(id), "status") != AnnouncementStatus.Completed) return false;
        }
        return true;
    }

    /// <summary>Sends that arrived after <paramref name="from"/> and before <paramref name="to"/> (UTC ticks).</summary>
    private static int Count(long[] arrivals, long from, long to) => arrivals.Count(t => t > from && t < to);
}
