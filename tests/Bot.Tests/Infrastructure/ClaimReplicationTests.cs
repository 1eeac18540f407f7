using System.Text.Json.Nodes;
using Bot.Core.Redis;
using Bot.Core.Replication;
using Bot.Tests.Harness;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Bot.Tests.Infrastructure;

/// <summary>
/// <see cref="ClaimReplication"/> against real Redis: one without a replica (nothing changes, no WAIT), and a primary with
/// one replica (a claim waits for it, concurrent claims share one WAIT, a frozen replica holds every send back).
/// </summary>
public sealed class ClaimReplicationTests(SharedRedis single, ReplicatedRedis replicated) : IClassFixture<SharedRedis>, IClassFixture<ReplicatedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AutoWaitsForNoReplicaOnARedisWithoutOneAndIssuesNoWait()
    {
        var replication = Replication(single.Connection, out var prefix);
        var keys = await ClaimAsync(single.Connection, prefix, 20);

        Assert.Equal(0, await replication.RequiredReplicasAsync(keys[0]));
        Assert.All(await Task.WhenAll(keys.Select(k => replication.UnacknowledgedAsync(k))), Assert.Null);
        // No test on this Redis asks for a replica, so not one WAIT ever reached it.
        Assert.Equal(0, await WaitCallsAsync(single.Connection));
    }

    [Fact]
    public async Task AutoWaitsForOneReplicaWhenThePrimaryHasOne()
    {
        var replication = Replication(replicated.Connection, out var prefix);
        var keys = await ClaimAsync(replicated.Connection, prefix, 1);

        Assert.Equal(1, await replication.RequiredReplicasAsync(keys[0]));
        Assert.Null(await replication.UnacknowledgedAsync(keys[0]));
    }

    [Fact]
    public async Task ClaimsAreAcknowledgedOnAConnectionWithoutAdminMode()
    {
        // As deployments connect: INFO and WAIT must not need allowAdmin.
        await using var plain = await ConnectionMultiplexer.ConnectAsync(replicated.Deployment.Primary.Address);
        var replication = Replication(plain, out var prefix);
        var keys = await ClaimAsync(plain, prefix, 3);

        Assert.Equal(1, await replication.RequiredReplicasAsync(keys[0]));
        Assert.All(await Task.WhenAll(keys.Select(k => replication.UnacknowledgedAsync(k))), Assert.Null);
    }

    [Fact]
    public async Task ConcurrentClaimsShareOneWait()
    {
        // A clock that stands still: auto is resolved once (ROLE), never again in the middle of the 64 claims.
        var replication = Replication(replicated.Connection, out var prefix, new FakeTimeProvider(DateTimeOffset.UtcNow));
        var keys = await ClaimAsync(replicated.Connection, prefix, 64);
        Assert.Null(await replication.UnacknowledgedAsync(keys[0]));
        var before = await WaitCallsAsync(replicated.Connection);

        var answers = await Task.WhenAll(keys.Select(k => replication.UnacknowledgedAsync(k)));

        Assert.All(answers, Assert.Null);
        // One WAIT; two if this thread lost the CPU for the gathering millisecond half-way through the 64 (a busy machine).
        Assert.InRange(await WaitCallsAsync(replicated.Connection) - before, 1, 2);
    }

    [Fact]
    public async Task AReplicaThatDroppedItsLinkIsStillWaitedForAndItsClaimsAreNotAcknowledged()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var replication = Replication(replicated.Connection, out var prefix, time);
        var keys = await ClaimAsync(replicated.Connection, prefix, 1);
        Assert.Equal(1, await replication.RequiredReplicasAsync(keys[0]));
        var deployment = replicated.Deployment;
        await deployment.Replica.FreezeAsync();
        try
        {
            // The link cut as a network partition would: the primary reports no connected replica now.
            await deployment.Primary.CliAsync("client", "kill", "type", "replica");
            await Eventually.WaitAsync(async () => (await deployment.Primary.CliAsync("info", "replication")).Output.Contains("connected_slaves:0", StringComparison.Ordinal),
                Timeout, "the primary to report no connected replica");
            time.Advance(TimeSpan.FromSeconds(5));

            Assert.Equal(1, await replication.RequiredReplicasAsync(keys[0]));
            var why = await replication.UnacknowledgedAsync(keys[0]);
            Assert.NotNull(why);
            Assert.Contains($"Redis replica {deployment.Replica.Address} of ", why);
            Assert.Contains("0 of 1", why);
        }
        finally
        {
            await deployment.Replica.ThawAsync();
        }
        await Eventually.WaitAsync(async () => await replication.UnacknowledgedAsync(keys[0]) is null, Timeout, "the replica to acknowledge again");
    }

    [Fact]
    public async Task AFrozenReplicaPausesTheAnnouncementNamingTheReplicaReleasesEveryClaimAndSendsNobodyUntilItAnswers()
    {
        // A pause longer than the test: no second pass claims while the first one's hand-back is looked at.
        await using var scenario = new Scenario(replicated, new Dictionary<string, string?> { ["Redis:ClaimReplicaPause"] = "00:10:00" });
        var employees = await scenario.AddEmployeesAsync(5);
        await scenario.StartDispatchersAsync(1);
        var deployment = replicated.Deployment;
        var warmUp = await scenario.CreateAnnouncementAsync(new { message = "Before", employeeIds = new[] { employees[0].Id } });
        await scenario.WaitForStatusAsync(warmUp, "completed", Timeout);

        await deployment.Replica.FreezeAsync();
        string id;
        try
        {
            id = await scenario.CreateAnnouncementAsync(new { message = "Payroll is out" });
            await scenario.WaitForStatusAsync(id, "paused", Timeout);
            var json = JsonNode.Parse(await scenario.Api.GetStringAsync($"/api/announcements/{id}"))!;
            Assert.StartsWith($"Redis replica {deployment.Replica.Address} of ", json["reason"]!.GetValue<string>());
            Assert.Equal(0, json["counts"]!["sent"]!.GetValue<long>());
            Assert.Equal(0, json["counts"]!["unknown"]!.GetValue<long>());
            Assert.DoesNotContain(scenario.Stub.Accepted, s => s.CallbackData?.StartsWith($"{id}:", StringComparison.Ordinal) == true);
            // Given back: no delivery of it is left claimed.
            Assert.All(employees, e => Assert.False(scenario.Redis.KeyExists(RedisKeys.Delivery(id, e.Id))));
        }
        finally
        {
            await deployment.Replica.ThawAsync();
        }

        // The operator saw the replica back: resume now rather than when the pause ends.
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await scenario.Api.PostAsync($"/api/announcements/{id}/resume", null)).StatusCode);
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        Assert.All(employees, e => Assert.Single(scenario.Stub.Accepted, s => s.To == e.Phone && s.CallbackData?.StartsWith($"{id}:", StringComparison.Ordinal) == true));
    }

    [Theory]
    [InlineData("auto", true, null)]
    [InlineData("AUTO", true, null)]
    [InlineData("0", true, 0)]
    [InlineData("2", true, 2)]
    [InlineData("two", false, null)]
    [InlineData("-1", false, null)]
    [InlineData("", false, null)]
    public void ClaimReplicasIsAutoOrANumber(string value, bool valid, int? replicas)
    {
        var options = new ClaimReplicationOptions { ClaimReplicas = value };

        Assert.Equal(valid, options.IsValid());
        if (valid) Assert.Equal(replicas, options.FixedReplicas);
    }

    [Fact]
    public void ASentinelConnectionStringKeepsItsServiceName()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = "10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379,serviceName=announcements",
        }).Build();

        var options = RedisHostingExtensions.ParseConnectionString(configuration);

        Assert.Equal("announcements", options.ServiceName);
        Assert.Equal(3, options.EndPoints.Count);
    }

    private static ClaimReplication Replication(IConnectionMultiplexer redis, out string prefix, TimeProvider? time = null, string replicas = ClaimReplicationOptions.Auto)
    {
        prefix = SharedRedis.NewKeyPrefix();
        return new ClaimReplication(redis, new RedisKeyspace(prefix), Options.Create(new ClaimReplicationOptions { ClaimReplicas = replicas }),
            time ?? TimeProvider.System, NullLogger<ClaimReplication>.Instance);
    }

    /// <summary>Delivery keys written as a claim writes them (the stores' names; the prefix applied by the database).</summary>
    private static async Task<RedisKey[]> ClaimAsync(IConnectionMultiplexer redis, string prefix, int count)
    {
        var announcementId = Guid.NewGuid().ToString("N");
        var keys = Enumerable.Range(1, count).Select(i => RedisKeys.Delivery(announcementId, $"e{i:D5}")).ToArray();
        var db = new RedisKeyspace(prefix).Database(redis);
        await Task.WhenAll(keys.Select(k => db.StringSetAsync(k, "claimed", TimeSpan.FromMinutes(5), When.NotExists)));
        return keys;
    }

    /// <summary>cmdstat_wait calls of the primary, from INFO commandstats.</summary>
    private static async Task<long> WaitCallsAsync(IConnectionMultiplexer redis)
    {
        var primary = redis.GetServers().Single(s => !s.IsReplica);
        var stats = (await primary.InfoAsync("commandstats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        if (!stats.TryGetValue("cmdstat_wait", out var wait)) return 0;
        var calls = wait.Split(',').First(f => f.StartsWith("calls=", StringComparison.Ordinal));
        return long.Parse(calls["calls=".Length..]);
    }
}
