using Bot.Core.Redis;
using Xunit.Abstractions;

namespace Bot.FaultTests;

public sealed class KillTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Paced = new()
    {
        ["WhatsApp:MessagesPerSecond"] = "250",
        ["Dispatcher:BatchSize"] = "100",
    };

    [Fact]
    public async Task KillingTheLockHolderThreeTimesMidFanOutLosesNothingAndSendsNothingTwice()
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(4000);
        world.StartDispatchers(3, Paced);
        var id = await world.AnnounceAsync("Kill test");

        var resumeTimes = new List<TimeSpan>();
        foreach (var threshold in new[] { 600, 1600, 2600 })
        {
            await WaitForSendsAsync(world, threshold);
            var holder = await world.LockHolderAsync(TimeSpan.FromSeconds(10));
            holder!.Kill();
            var killedAt = DateTime.UtcNow;
            output.WriteLine($"killed {holder.Pid} at {killedAt:HH:mm:ss.fff}");
            world.StartDispatcher(Paced); // keep two standbys
            var resumed = await WaitForSendsAfterAsync(world, killedAt, 10);
            resumeTimes.Add(resumed - killedAt);
        }
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(2));

        var counts = await world.AssertExactlyOnceAsync(id, 4000);
        foreach (var p in world.Processes)
            foreach (var line in p.Output.Where(l => l.Contains("lock") || l.Contains("handed back") || l.Contains("completed"))) output.WriteLine($"{p.Pid}: {line}");
        output.WriteLine($"counts {counts}; time to resume after each kill: {string.Join(", ", resumeTimes.Select(t => $"{t.TotalSeconds:F2} s"))}");
        // Only requests in flight at a kill may be unknown: at most MaxConcurrentSends (32) per kill.
        Assert.InRange(counts.Unknown, 0, 3 * 32);
        // How soon sending resumed is printed above (lock expiry 3 s + one poll on a quiet machine, ~3.3 s); the wait's
        // deadline is the bound, because a tight wall-clock bound fails on a busy CI machine without anything being wrong.
    }

    [Fact]
    public async Task SigtermMidFanOutFinishesInFlightSendsAndAnotherReplicaResumesWithNoUnknown()
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(2000);
        world.StartDispatchers(2, Paced);
        var id = await world.AnnounceAsync("Graceful shutdown test");

        await WaitForSendsAsync(world, 500);
        var holder = (await world.LockHolderAsync(TimeSpan.FromSeconds(10)))!;
        holder.Terminate();
        var terminatedAt = DateTime.UtcNow;
        await holder.WaitForExitAsync(TimeSpan.FromSeconds(15));
        var exitedAfter = DateTime.UtcNow - terminatedAt;
        var resumedAfter = await WaitForSendsAfterAsync(world, terminatedAt + exitedAfter, 10) - terminatedAt;
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(1));

        var counts = await world.AssertExactlyOnceAsync(id, 2000);
        output.WriteLine($"counts {counts}; exited after {exitedAfter.TotalSeconds:F2} s; resumed {resumedAfter.TotalSeconds:F2} s after SIGTERM");
        Assert.Equal(0, counts.Unknown);
        Assert.Equal(2000, counts.Sent);
        // Handed back at once, rather than left for its lease to run out: said by the process that stopped (how fast the
        // other replica resumed is the figure printed above; a busy machine stretches it).
        Assert.Equal(1, holder.CountLines("handed back after"));
    }

    [Fact]
    public async Task RedisKilledMidFanOutAndRestartedFromItsAofSendsNothingTwice()
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(3000);
        world.StartDispatchers(2, Paced);
        var id = await world.AnnounceAsync("Redis restart test");

        await WaitForSendsAsync(world, 800);
        await world.Redis.KillAsync();
        var sentWhileDown = world.Stub.Sends.Count;
        await Task.Delay(TimeSpan.FromSeconds(1)); // the outage itself: dispatchers must cope with Redis being gone
        await world.Redis.RestartAsync();
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(2));

        var counts = await world.AssertExactlyOnceAsync(id, 3000);
        output.WriteLine($"counts {counts}; {sentWhileDown} sends before the kill");
        // Sends whose result could not be recorded while Redis was down are unknown, never re-sent.
        Assert.InRange(counts.Unknown, 0, 2 * 32);
    }

    [Fact]
    public async Task ClusterMasterKilledMidFanOutAndRestartedFromItsAofSendsNothingTwice()
    {
        await using var world = await FaultWorld.StartOnClusterAsync();
        await world.SeedEmployeesAsync(2000);
        world.StartDispatchers(2, Paced);
        var id = await world.AnnounceAsync("Cluster node restart test");
        // The master holding the announcement: its counters and every delivery claim, the exactly-once gate.
        var node = world.Cluster.NodeOf(RedisKeys.Announcement(id));

        await WaitForSendsAsync(world, 500);
        await world.Cluster.KillAsync(node);
        var sentBeforeKill = world.Stub.Sends.Count;
        await Task.Delay(TimeSpan.FromSeconds(1)); // the outage itself: that master's slots are unserved meanwhile
        await world.Cluster.RestartAsync(node);
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(2));

        var counts = await world.AssertExactlyOnceAsync(id, 2000);
        output.WriteLine($"counts {counts}; killed master {node} of {RedisCluster.Masters} after {sentBeforeKill} sends");
        // Sends whose result could not be recorded while the master was down are unknown, never re-sent.
        Assert.InRange(counts.Unknown, 0, 2 * 32);
    }

    /// <summary>
    /// When sending resumed after <paramref name="since"/>: the first of <paramref name="count"/> requests arriving
    /// later than 100 ms after it (requests a killed process had already written may still arrive just after).
    /// </summary>
    private static async Task<DateTime> WaitForSendsAfterAsync(FaultWorld world, DateTime since, int count)
    {
        var after = await Eventually.WaitAsync(
            () => Task.FromResult(world.Stub.Server.LogEntries.Select(e => e.RequestMessage.DateTime).Where(t => t > since.AddMilliseconds(100)).ToList()),
            times => times.Count >= count, TimeSpan.FromSeconds(30), $"{count} sends after {since:O}");
        return after.Min();
    }

    private static Task WaitForSendsAsync(FaultWorld world, int count) =>
        Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Count), n => n >= count, TimeSpan.FromSeconds(60), $"{count} sends");
}
