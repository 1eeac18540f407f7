using Bot.Core.Redis;
using Bot.Tests.Harness;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Hosting;

/// <summary>Both hosts check at start-up that their Redis is durable, and say so once when it is not.</summary>
public sealed class RedisDurabilityCheckTests(SharedRedis redis, SharedRedisCluster cluster) : IClassFixture<SharedRedis>, IClassFixture<SharedRedisCluster>
{
    private static readonly string Category = typeof(RedisDurabilityCheck).FullName!;

    [Theory]
    [InlineData("--appendonly no", LogLevel.Warning, "appendonly no, appendfsync everysec")]
    [InlineData("--appendonly yes --appendfsync everysec", LogLevel.Warning, "appendonly yes, appendfsync everysec")]
    [InlineData("--appendonly yes --appendfsync always", LogLevel.Debug, "appendonly yes, appendfsync always")]
    [InlineData("--rename-command CONFIG CONFIG-renamed-by-ops", LogLevel.Information, "Could not check the durability")]
    public async Task EveryHostLogsItsRedisDurabilityOnceAtStartUp(string redisArgs, LogLevel level, string text)
    {
        await using var own = await RedisServer.StartAsync(redisArgs);
        await using var scenario = new Scenario(redis);
        var settings = new Dictionary<string, string?>(scenario.Settings)
        {
            // No allowAdmin, as in production: the check must not need it.
            ["ConnectionStrings:Redis"] = $"{own.Host}:{own.Port}",
            [$"Logging:LogLevel:{Category}"] = "Debug",
        };
        var logs = new CapturedLogs();

        await using var webhook = new WebhookHost(settings, logs.Provider("webhook"));
        using var client = webhook.CreateClient();
        using var dispatcher = DispatcherHosts.Build(new Dictionary<string, string?>(settings) { ["Dispatcher:Enabled"] = "true" },
            logging => logging.ClearProviders().AddProvider(logs.Provider("dispatcher")));
        await dispatcher.StartAsync();

        await Eventually.WaitAsync(() => Task.FromResult(logs.Entries.Where(e => e.Category == Category).ToList()),
            e => e.Select(x => x.Host).Distinct().Count() == 2, TimeSpan.FromSeconds(20), "both hosts' durability check");
        await dispatcher.StopAsync();
        foreach (var host in new[] { "webhook", "dispatcher" })
        {
            var entry = Assert.Single(logs.Entries, e => e.Category == Category && e.Host == host);
            Assert.True(level == entry.Level, $"{host}: {entry.Level} {entry.Text}");
            Assert.Contains(text, entry.Text);
        }
    }

    [Fact]
    public async Task OnAClusterEveryMasterIsChecked()
    {
        // A claim lost in one master's crash is as bad as in a single Redis's: each master is asked for itself.
        await using var scenario = new Scenario(cluster, new Dictionary<string, string?> { [$"Logging:LogLevel:{Category}"] = "Debug" });
        var logs = new CapturedLogs();

        await using var webhook = new WebhookHost(scenario.Settings, logs.Provider("webhook"));
        using var client = webhook.CreateClient();

        var entries = await Eventually.WaitAsync(() => Task.FromResult(logs.Entries.Where(e => e.Category == Category).ToList()),
            e => e.Count >= RedisCluster.Masters, TimeSpan.FromSeconds(20), "a durability line per master");
        Assert.Equal(RedisCluster.Masters, entries.Count);
        Assert.All(entries, e => Assert.Contains("appendonly yes, appendfsync always", e.Text));
        Assert.All(cluster.Cluster.Ports, port => Assert.Single(entries, e => e.Text.Contains($":{port} ", StringComparison.Ordinal)));
    }
}
