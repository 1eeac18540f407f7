using Bot.Core.Redis;
using Xunit.Abstractions;

namespace Bot.FaultTests;

public sealed class LockTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RedLockOverThreeInstancesDispatchesWithOneDownAndClaimsNothingWithTwoDown()
    {
        await using var world = await FaultWorld.StartAsync();
        await using var lock1 = await RedisServer.StartAsync();
        await using var lock2 = await RedisServer.StartAsync();
        await using var lock3 = await RedisServer.StartAsync();
        await world.SeedEmployeesAsync(500);
        var settings = new Dictionary<string, string>
        {
            ["Redis:LockEndpoints:0"] = lock1.ConnectionString,
            ["Redis:LockEndpoints:1"] = lock2.ConnectionString,
            ["Redis:LockEndpoints:2"] = lock3.ConnectionString,
        };
        var dispatchers = world.StartDispatchers(2, settings);

        await lock1.KillAsync();
        var first = await world.AnnounceAsync("Quorum of two");
        await world.WaitForCompletedAsync(first, TimeSpan.FromSeconds(30));
        await world.AssertExactlyOnceAsync(first, 500);

        await lock2.KillAsync();
        // Past the lock expiry (3 s): whoever held the lock has lost it, and nobody can take it again.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var sentBefore = world.Stub.Sends.Count;
        var second = await world.AnnounceAsync("No quorum");
        await Task.Delay(TimeSpan.FromSeconds(3)); // many polls' worth of chances to claim it
        var (status, _) = await world.ReadAsync(second);
        Assert.Equal("scheduled", status);
        Assert.Equal(sentBefore, world.Stub.Sends.Count);
        Assert.NotNull(await world.Db.SortedSetScoreAsync(RedisKeys.Due("default"), second));
        Assert.Contains(dispatchers, d => d.CountLines("lock has no quorum") > 0);

        await lock2.RestartAsync();
        await world.WaitForCompletedAsync(second, TimeSpan.FromSeconds(60));
        await world.AssertExactlyOnceAsync(second, 500);
        Assert.Equal(1000, world.Stub.Sends.Count);
    }

    [Fact]
    public async Task HolderWhoseLockRedisStallsPastTheExpiryStopsWithinOneBatchAndNothingIsSentTwice()
    {
        await using var world = await FaultWorld.StartAsync();
        await using var lockRedis = await RedisServer.StartAsync();
        await world.SeedEmployeesAsync(3000);
        world.StartDispatchers(2, new Dictionary<string, string>
        {
            ["Redis:LockEndpoints:0"] = lockRedis.ConnectionString,
            ["WhatsApp:MessagesPerSecond"] = "250",
            ["Dispatcher:BatchSize"] = "50",
        });
        var id = await world.AnnounceAsync("Lock stall test");

        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Count), n => n >= 600, TimeSpan.FromSeconds(30), "600 sends");
        var holder = (await world.LockHolderAsync(TimeSpan.FromSeconds(10), lockRedis.Connection.GetDatabase()))!;
        // Every client of the lock's Redis stalls for longer than the lock expiry (3 s).
        await lockRedis.Connection.GetServer(lockRedis.Connection.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", "5000", "ALL");
        var pausedAt = DateTime.UtcNow;
        await Eventually.WaitAsync(() => Task.FromResult(holder.CountLines("stopped claiming")), n => n > 0, TimeSpan.FromSeconds(10), "the holder to stop");
        var stoppedAfter = DateTime.UtcNow - pausedAt;
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(1));

        var counts = await world.AssertExactlyOnceAsync(id, 3000);
        foreach (var p in world.Processes)
            foreach (var line in p.Output.Where(l => l.Contains("lock") || l.Contains("handed back"))) output.WriteLine($"{p.Pid}: {line}");
        // While the lock's Redis is paused nobody can take the lock, so every send in those 5 s is the holder's. Counted
        // in sends, not seconds (a busy machine only sends fewer): its lock is valid at most 3 s into the stall, at
        // 250/s under 750 sends, then the claimed batch (50) and the requests in flight (32) may still go; a holder that
        // went on would send ~1,200.
        var duringStall = world.Stub.Server.LogEntries.Select(e => e.RequestMessage.DateTime.ToUniversalTime())
            .Count(t => t >= pausedAt && t < pausedAt.AddSeconds(5));
        output.WriteLine($"counts {counts}; the holder stopped claiming {stoppedAfter.TotalSeconds:F2} s into the stall, after {duringStall} sends");
        Assert.InRange(duringStall, 0, 850);
        Assert.True(holder.CountLines("handed back") > 0, "the holder did not hand its announcement back");
        Assert.Equal(3000, counts.Sent);
    }
}
