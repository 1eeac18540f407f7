using System.Diagnostics;
using System.Net;
using StackExchange.Redis;

namespace Bot.Testing;

/// <summary>
/// A real Sentinel deployment for tests: a primary and its replica (AOF with appendfsync always, as shipped) watched by
/// three Sentinels (<c>redis-server s.conf --sentinel</c>, quorum 2, down-after-milliseconds 2000), each a local process
/// that dies with the test process. Clients connect through the Sentinels (<see cref="ConnectionString"/>), as a
/// deployment does, and follow a failover by themselves.
/// </summary>
public sealed class RedisSentinels : IAsyncDisposable
{
    public const string ServiceName = "m";
    public const int SentinelCount = 3;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly RedisNode primary;
    private readonly RedisNode replica;
    private readonly RedisNode[] sentinels;
    private ConnectionMultiplexer? connection;

    private RedisSentinels(string redisServer, int sentinelCount)
    {
        primary = new RedisNode(redisServer, (port, dir) => DataNode(port, dir));
        replica = new RedisNode(redisServer, (port, dir) => [.. DataNode(port, dir), "--replicaof", "127.0.0.1", primary.Port.ToString()]);
        sentinels = [.. Enumerable.Range(0, sentinelCount).Select(_ => new RedisNode(redisServer, (port, dir) =>
        {
            // Sentinel rewrites its configuration file (what it learnt of replicas and other Sentinels): one per Sentinel.
            var conf = Path.Combine(dir, "sentinel.conf");
            if (!File.Exists(conf))
            {
                File.WriteAllText(conf, $"""
                    port {port}
                    bind 127.0.0.1
                    daemonize no
                    dir {dir}
                    sentinel monitor {ServiceName} 127.0.0.1 {primary.Port} 2
                    sentinel down-after-milliseconds {ServiceName} 2000
                    sentinel failover-timeout {ServiceName} 4000
                    sentinel parallel-syncs {ServiceName} 1

                    """);
            }
            return [conf, "--sentinel"];
        }))];
    }

    /// <summary>The primary and the replica as started (after a failover their roles are swapped).</summary>
    public RedisNode Primary => primary;

    public RedisNode Replica => replica;

    public IReadOnlyList<RedisNode> Sentinels => sentinels;

    /// <summary>
    /// "127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3,serviceName=m,allowAdmin=true": the Sentinels, as a deployment lists them
    /// ("127.0.0.1:P,allowAdmin=true", the primary, without Sentinels).
    /// </summary>
    public string ConnectionString => sentinels.Length == 0 ? $"{primary.Address},allowAdmin=true"
        : string.Join(',', sentinels.Select(s => s.Address)) + $",serviceName={ServiceName},allowAdmin=true";

    /// <summary>A multiplexer on the current primary, found and followed through the Sentinels.</summary>
    public IConnectionMultiplexer Connection =>
        connection ?? throw new InvalidOperationException("RedisSentinels has not been started.");

    /// <summary>Primary, replica and three Sentinels; the caller disposes them.</summary>
    public static Task<RedisSentinels> StartAsync() => StartAsync(SentinelCount);

    /// <summary>A primary and its replica alone, connected to directly (nothing fails over).</summary>
    public static Task<RedisSentinels> StartPrimaryAndReplicaAsync() => StartAsync(0);

    private static async Task<RedisSentinels> StartAsync(int sentinelCount)
    {
        var deployment = new RedisSentinels(
            RedisServer.FindExecutable() ?? throw new InvalidOperationException("redis-server was not found — install it with: apt-get install -y redis-server"),
            sentinelCount);
        try
        {
            await deployment.InitializeAsync();
            return deployment;
        }
        catch
        {
            await deployment.DisposeAsync();
            throw;
        }
    }

    /// <summary>The primary's port as the Sentinels name it now (get-master-addr-by-name), asking any that answers.</summary>
    public async Task<int?> PrimaryPortAsync()
    {
        foreach (var sentinel in sentinels.Where(s => s.IsRunning))
        {
            var answer = await sentinel.CliAsync("sentinel", "get-master-addr-by-name", ServiceName);
            var lines = answer.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (answer.ExitCode == 0 && lines.Length == 2 && int.TryParse(lines[1], out var port)) return port;
        }
        return null;
    }

    /// <summary>Waits until the Sentinels name <paramref name="node"/> the primary and it says role:master.</summary>
    public Task WaitForPrimaryAsync(RedisNode node, TimeSpan timeout) =>
        Eventually.WaitAsync(async () =>
            await PrimaryPortAsync() == node.Port && (await node.CliAsync("role")).Output.StartsWith("master", StringComparison.Ordinal),
            timeout, $"Sentinel to promote {node.Address}");

    public async ValueTask DisposeAsync()
    {
        if (connection is not null) await connection.DisposeAsync();
        foreach (var node in sentinels.Append(replica).Append(primary)) await node.DisposeAsync();
    }

    private async Task InitializeAsync()
    {
        await primary.StartOnFreePortAsync(clusterBus: false);
        await replica.StartOnFreePortAsync(clusterBus: false);
        foreach (var sentinel in sentinels) await sentinel.StartOnFreePortAsync(clusterBus: false);

        var deadline = Stopwatch.StartNew();
        // The replica in sync, and every Sentinel knowing the replica and the other Sentinels: only then can they fail over.
        while (true)
        {
            var replication = (await primary.CliAsync("info", "replication")).Output;
            var known = await Task.WhenAll(sentinels.Select(s => s.CliAsync("sentinel", "master", ServiceName)));
            if (replication.Contains("state=online", StringComparison.Ordinal) &&
                known.All(k => Field(k.Output, "num-slaves") == "1" && Field(k.Output, "num-other-sentinels") == $"{sentinels.Length - 1}"))
                break;
            if (deadline.Elapsed > ReadyTimeout)
                throw new InvalidOperationException($"Sentinels not ready after {ReadyTimeout.TotalSeconds} s:\n{replication}\n{string.Join("\n---\n", known.Select(k => k.Output))}");
            await Task.Delay(100);
        }

        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AbortOnConnectFail = false;
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        options.ReconnectRetryPolicy = new LinearRetry(100);
        connection = await ConnectionMultiplexer.ConnectAsync(options);
        if (!connection.GetEndPoints().Any(e => e is IPEndPoint ip ? ip.Port == primary.Port : e.ToString()?.EndsWith($":{primary.Port}", StringComparison.Ordinal) == true))
            throw new InvalidOperationException($"StackExchange.Redis did not connect to the primary {primary.Address} through the Sentinels:\n{connection.GetStatus()}");
    }

    private static IReadOnlyList<string> DataNode(int port, string dir) =>
    [
        "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no",
        "--appendonly", "yes", "--appendfsync", "always", "--save", "",
    ];

    /// <summary>A field of redis-cli's answer to SENTINEL MASTER (name and value on alternate lines).</summary>
    private static string? Field(string output, string name)
    {
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        var at = Array.IndexOf(lines, name);
        return at >= 0 && at + 1 < lines.Length ? lines[at + 1] : null;
    }
}
