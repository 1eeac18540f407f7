using Bot.Core.Redis;
using StackExchange.Redis;
using YamlDotNet.RepresentationModel;

namespace Bot.Tests.Hosting;

/// <summary>
/// The compose overlays for Redis with replicas (docker-compose.sentinel.yml, docker-compose.cluster-replicas.yml),
/// checked by reading them as <see cref="ComposeFileTests"/> does the others: no Docker engine here.
/// </summary>
public sealed class FailoverComposeFileTests
{
    private static readonly string[] Sentinels = ["sentinel-1", "sentinel-2", "sentinel-3"];

    [Theory]
    [InlineData("webhook")]
    [InlineData("dispatcher")]
    public void OnSentinelTheHostsConnectThroughTheThreeSentinelsAndWaitForThem(string service)
    {
        var host = Service("docker-compose.sentinel.yml", service);
        var environment = ((YamlMappingNode)host["environment"]).Children.ToDictionary(kv => kv.Key.ToString().Replace("__", ":"), kv => kv.Value.ToString());
        var options = ConfigurationOptions.Parse(environment[$"ConnectionStrings:{RedisHostingExtensions.ConnectionStringName}"]);

        Assert.Equal("announcements", options.ServiceName);
        Assert.Equal(Sentinels.Select(s => $"Unspecified/{s}:26379"), options.EndPoints.Select(e => e.ToString()));
        var dependsOn = (YamlMappingNode)host["depends_on"];
        Assert.Equal("!override", dependsOn.Tag.Value);
        Assert.All(Sentinels, s => Assert.Equal("service_healthy", ((YamlScalarNode)((YamlMappingNode)dependsOn[s])["condition"]).Value));
    }

    [Fact]
    public void SentinelsMonitorTheDurablePrimaryAndItsDurableReplicaWithAQuorumOfTwo()
    {
        var file = Load("docker-compose.sentinel.yml");
        var sentinel = (YamlMappingNode)file["x-sentinel"];
        var script = string.Join('\n', Sequence(sentinel["command"]));
        Assert.Contains("sentinel monitor announcements redis 6379 2", script);
        Assert.Contains("--sentinel", script);
        foreach (var name in Sentinels) Assert.Same(sentinel, ((YamlMappingNode)((YamlMappingNode)file["services"])[name])["<<"]);

        var replica = string.Join(' ', Sequence(Service("docker-compose.sentinel.yml", "redis-replica")["command"]));
        Assert.Contains("--replicaof redis 6379", replica);
        Assert.Contains("--appendonly yes --appendfsync always", replica);
        Assert.Contains("--appendonly yes --appendfsync always", string.Join(' ', Sequence(Service("docker-compose.sentinel.yml", "redis")["command"])));
    }

    [Fact]
    public void TheClusterWithReplicasJoinsSixNodesWithAReplicaPerMaster()
    {
        var node = (YamlMappingNode)Load("docker-compose.cluster-replicas.yml")["x-redis-node"];
        var command = string.Join(' ', Sequence(node["command"]));
        Assert.Contains("--cluster-enabled yes", command);
        Assert.Contains("--cluster-node-timeout 2000", command);
        Assert.Contains("--appendonly yes --appendfsync always", command);

        var script = string.Join('\n', Sequence(Service("docker-compose.cluster-replicas.yml", "redis-cluster-init")["command"]));
        Assert.Contains("--cluster-replicas 1", script);
        Assert.All(Enumerable.Range(1, 6), i => Assert.Contains($"getent hosts redis-node-{i} ", script));
    }

    private static YamlMappingNode Service(string file, string name) => (YamlMappingNode)((YamlMappingNode)Load(file)["services"])[name];

    private static List<string> Sequence(YamlNode node) => [.. ((YamlSequenceNode)node).Children.Select(c => ((YamlScalarNode)c).Value!)];

    private static YamlMappingNode Load(string file)
    {
        using var reader = new StreamReader(Path.Combine(Repo.Root, file));
        var yaml = new YamlStream();
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }
}
