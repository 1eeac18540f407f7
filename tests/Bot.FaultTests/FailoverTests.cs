using System.Diagnostics;
using Bot.Core.Deliveries;
using Bot.Core.Redis;
using Xunit.Abstractions;

namespace Bot.FaultTests;

/// <summary>
/// Redis failover while claims are written: the replica of the node holding the announcement lags (frozen, its link
/// cut) for three seconds, then that node dies and the replica is promoted without the latest writes. With
/// <c>Redis:ClaimReplicas</c> (auto) no message went out on a claim the replica did not have, so nobody gets a second
/// one; without it the same fault sends hundreds twice.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Employees = 1500;
    private static readonly TimeSpan Lag = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task FailoverOfAClusterMasterWhoseReplicaLaggedSendsNobodyTwice()
    {
        await using var world = await FaultWorld.StartOnClusterWithReplicasAsync();
        var outcome = await RunAsync(world, "auto", ClusterFault);

        Assert.Equal(0, outcome.Duplicates);
        AssertEveryoneReachedOrUnknown(outcome);
    }

    [Fact]
    public async Task SentinelFailoverOfAPrimaryWhoseReplicaLaggedSendsNobodyTwice()
    {
        await using var world = await FaultWorld.StartOnSentinelsAsync();
        var outcome = await RunAsync(world, "auto", SentinelFault);

        Assert.Equal(0, outcome.Duplicates);
        AssertEveryoneReachedOrUnknown(outcome);
    }

    /// <summary>The same fault with the setting off: the test above could fail, and this is what it guards against.</summary>
    [Fact]
    public async Task WithoutClaimReplicasTheSameClusterFailoverSendsSomeEmployeesTwice()
    {
        await using var world = await FaultWorld.StartOnClusterWithReplicasAsync();
        var outcome = await RunAsync(world, "0", ClusterFault);

        Assert.True(outcome.Duplicates > 0, $"expected second messages without Redis:ClaimReplicas; {outcome}");
    }

    private async Task<Outcome> RunAsync(FaultWorld world, string claimReplicas, Func<FaultWorld, string, Task<Func<Task>>> cutReplica)
    {
        var settings = new Dictionary<string, string>
        {
            ["WhatsApp:MessagesPerSecond"] = "200",
            ["Dispatcher:BatchSize"] = "100",
            // A pass whose Redis node died resumes within seconds, as it would after any lost lease.
            ["Dispatcher:LeaseDuration"] = "00:00:03",
            ["Redis:ClaimReplicas"] = claimReplicas,
            ["Redis:ClaimReplicaPause"] = "00:00:00.500",
        };
        var employees = await world.SeedEmployeesAsync(Employees);
        world.StartDispatchers(2, settings);
        var id = await world.AnnounceAsync("Failover test");
        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Count), n => n >= 200, TimeSpan.FromSeconds(30), "200 sends");

        var clock = Stopwatch.StartNew();
        var failOver = await cutReplica(world, id);
        var sentAtCut = world.Stub.Sends.Count;
        // The lag itself: claims go on against a primary whose replica receives nothing.
        await Task.Delay(Lag);
        var sentDuringLag = world.Stub.Sends.Count - sentAtCut;
        await failOver();
        var failedOverAfter = clock.Elapsed - Lag;
        await world.WaitForCompletedAsync(id, TimeSpan.FromSeconds(40));

        var deliveries = new DeliveryStore(world.Db);
        var ids = Enumerable.Range(1, Employees).Select(i => $"e{i:D5}").ToList();
        var records = await deliveries.GetManyAsync(id, ids);
        var accepted = world.Stub.Accepted.Where(s => s.CallbackData?.StartsWith($"{id}:", StringComparison.Ordinal) == true)
            .GroupBy(s => s.To).ToDictionary(g => g.Key, g => g.Count());
        var outcome = new Outcome(
            Duplicates: accepted.Values.Count(n => n > 1),
            Unreached: [.. ids.Select((e, i) => (Employee: e, Phone: employees[i], Record: records[i]))
                .Where(x => !accepted.ContainsKey(x.Phone) && x.Record?.State != DeliveryState.Unknown)
                .Select(x => $"{x.Employee}:{x.Record?.State.ToString() ?? "none"}")],
            Unknown: records.Count(r => r?.State == DeliveryState.Unknown),
            Accepted: accepted.Values.Sum(),
            SentDuringLag: sentDuringLag,
            FailedOverAfter: failedOverAfter);
        output.WriteLine($"Redis:ClaimReplicas={claimReplicas}: {outcome}");
        foreach (var line in world.Processes.SelectMany(p => p.Output).Where(l => l.Contains("replica", StringComparison.OrdinalIgnoreCase)).Distinct().Take(10))
            output.WriteLine(line);
        return outcome;
    }

    /// <summary>
    /// Freezes the replica of the master holding the announcement and cuts its link; the returned step kills that
    /// master and lets the other masters elect the replica (node timeout 2 s), with CLUSTER FAILOVER TAKEOVER only if
    /// that has not happened within 10 s.
    /// </summary>
    private static async Task<Func<Task>> ClusterFault(FaultWorld world, string id)
    {
        var cluster = world.Cluster;
        var master = cluster.Nodes[cluster.NodeOf(RedisKeys.Announcement(id))];
        var replica = cluster.Nodes[await cluster.ReplicaOfAsync(cluster.NodeOf(RedisKeys.Announcement(id)))];
        await replica.FreezeAsync();
        await master.CliAsync("client", "kill", "type", "replica");
        return async () =>
        {
            await master.StopAsync();
            await replica.ThawAsync();
            var elected = Stopwatch.StartNew();
            while (!await IsPrimaryAsync(replica) && elected.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100);
            if (!await IsPrimaryAsync(replica))
            {
                var takeover = await replica.CliAsync("cluster", "failover", "takeover");
                Assert.True(takeover.Output.Trim() == "OK", $"CLUSTER FAILOVER TAKEOVER: {takeover.Output}");
                await Eventually.WaitAsync(() => IsPrimaryAsync(replica), TimeSpan.FromSeconds(15), $"{replica.Address} to be promoted");
            }
            await cluster.WaitUntilReadyAsync();
        };
    }

    /// <summary>The same against Sentinel: the primary dies, the Sentinels (down-after 2 s) promote the thawed replica.</summary>
    private static async Task<Func<Task>> SentinelFault(FaultWorld world, string id)
    {
        var deployment = world.Sentinels;
        await deployment.Replica.FreezeAsync();
        await deployment.Primary.CliAsync("client", "kill", "type", "replica");
        return async () =>
        {
            await deployment.Primary.StopAsync();
            await deployment.Replica.ThawAsync();
            await deployment.WaitForPrimaryAsync(deployment.Replica, TimeSpan.FromSeconds(20));
        };
    }

    private static async Task<bool> IsPrimaryAsync(RedisNode node) => (await node.CliAsync("role")).Output.StartsWith("master", StringComparison.Ordinal);

    private static void AssertEveryoneReachedOrUnknown(Outcome outcome) =>
        Assert.True(outcome.Unreached.Count == 0, $"neither reached nor unknown: {string.Join(", ", outcome.Unreached.Take(20))} ({outcome.Unreached.Count})");

    private sealed record Outcome(int Duplicates, IReadOnlyList<string> Unreached, int Unknown, int Accepted, int SentDuringLag, TimeSpan FailedOverAfter)
    {
        public override string ToString() =>
            $"{Duplicates} employees messaged twice, {Accepted} accepted, {Unknown} unknown, {Unreached.Count} neither, " +
            $"{SentDuringLag} sends during the {Lag.TotalSeconds:0} s lag, promoted {FailedOverAfter.TotalSeconds:F1} s after the lag";
    }
}
