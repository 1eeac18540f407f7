using System.Diagnostics;
using StackExchange.Redis;

namespace Bot.Testing;

/// <summary>
/// A real three-master Redis Cluster for tests: local <c>redis-server --cluster-enabled yes</c> processes (AOF with
/// appendfsync always, as shipped), each in a data directory of its own, joined by <c>redis-cli --cluster create</c>;
/// with <see cref="StartWithReplicasAsync"/> each master has a replica (six processes), as production runs it. A node
/// can be killed abruptly and started again from its AOF and nodes.conf, as after a crash, or frozen (SIGSTOP). The
/// nodes die with the test process (<see cref="TiedProcess"/>).
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    public const int Masters = 3;

    private static readonly TimeSpan ClusterReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly RedisNode[] nodes;
    private readonly int replicasPerMaster;
    private ConnectionMultiplexer? connection;

    private RedisCluster(string redisServer, int replicasPerMaster)
    {
        this.replicasPerMaster = replicasPerMaster;
        // Without replicas: long enough that a restart within seconds never marks the node failed (no replica could take
        // over anyway); short enough that a failure mark is undone soon after it is back (2 × the timeout). With them:
        // a failed master's replica takes over within seconds.
        var nodeTimeout = replicasPerMaster == 0 ? "5000" : "2000";
        nodes = [.. Enumerable.Range(0, Masters * (1 + replicasPerMaster)).Select(_ => new RedisNode(redisServer, (port, dir) =>
        [
            "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no",
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", nodeTimeout,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        ]))];
    }

    /// <summary>"127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3,allowAdmin=true": every master as a seed, as a deployment lists them.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The masters' ports, as created.</summary>
    public IReadOnlyList<int> Ports => [.. nodes.Take(Masters).Select(n => n.Port)];

    /// <summary>Every node: the masters as created first, then the replicas.</summary>
    public IReadOnlyList<RedisNode> Nodes => nodes;

    /// <summary>A multiplexer shared by the tests; it follows the cluster through a node's kill and restart.</summary>
    public IConnectionMultiplexer Connection =>
        connection ?? throw new InvalidOperationException("RedisCluster has not been started.");

    /// <summary>Starts a cluster of its own (a fault test kills its nodes); the caller disposes it.</summary>
    public static Task<RedisCluster> StartAsync() => StartAsync(0);

    /// <summary>Three masters with one replica each (cluster-node-timeout 2 s); the caller disposes it.</summary>
    public static Task<RedisCluster> StartWithReplicasAsync() => StartAsync(1);

    private static async Task<RedisCluster> StartAsync(int replicasPerMaster)
    {
        var cluster = new RedisCluster(
            RedisServer.FindExecutable() ?? throw new InvalidOperationException("redis-server was not found — install it with: apt-get install -y redis-server"),
            replicasPerMaster);
        try
        {
            await cluster.InitializeAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The index (in <see cref="Nodes"/>) of the master serving <paramref name="key"/>'s hash slot.</summary>
    public int NodeOf(RedisKey key)
    {
        var endpoint = Connection.GetServer(key).EndPoint;
        return Array.FindIndex(nodes, n => endpoint.ToString()?.EndsWith($":{n.Port}", StringComparison.Ordinal) == true);
    }

    /// <summary>The index (in <see cref="Nodes"/>) of the replica of the master at <paramref name="master"/>.</summary>
    public async Task<int> ReplicaOfAsync(int master)
    {
        var id = (await nodes[master].CliAsync("cluster", "myid")).Output.Trim();
        for (var i = 0; i < nodes.Length; i++)
        {
            if (i == master || !nodes[i].IsRunning) continue;
            var info = (await nodes[i].CliAsync("info", "replication")).Output;
            if (info.Contains("role:slave", StringComparison.Ordinal) && info.Contains($"master_port:{nodes[master].Port}\n", StringComparison.Ordinal)) return i;
        }
        throw new InvalidOperationException($"no replica of master {nodes[master].Address} ({id})");
    }

    /// <summary>Kills one node abruptly (SIGKILL: no shutdown save, as in a crash).</summary>
    public Task KillAsync(int node) => nodes[node].StopAsync();

    /// <summary>Starts a killed master again on its port and data directory (AOF + nodes.conf) and waits for cluster_state:ok.</summary>
    public async Task RestartAsync(int node)
    {
        await nodes[node].StopAsync();
        await nodes[node].StartAsync(nodes[node].Port);
        await WaitUntilReadyAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null) await connection.DisposeAsync();
        foreach (var node in nodes) await node.DisposeAsync();
    }

    private async Task InitializeAsync()
    {
        foreach (var node in nodes) await node.StartOnFreePortAsync(clusterBus: true);
        // redis-cli makes the first Masters nodes masters and pairs the rest with them as replicas.
        var create = await RedisCli.RunAsync(["--cluster", "create", .. nodes.Select(n => n.Address), "--cluster-replicas", replicasPerMaster.ToString(), "--cluster-yes"]);
        if (create.ExitCode != 0)
            throw new InvalidOperationException($"redis-cli --cluster create failed ({create.ExitCode}):\n{create.Output}");
        await WaitUntilReadyAsync();
        if (replicasPerMaster > 0) await WaitForReplicasInSyncAsync();

        ConnectionString = string.Join(',', nodes.Take(Masters).Select(n => n.Address)) + ",allowAdmin=true";
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AbortOnConnectFail = false;
        // Fault tests restart a node; reconnect within a fraction of a second, not the default seconds.
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        options.ReconnectRetryPolicy = new LinearRetry(100);
        connection = await ConnectionMultiplexer.ConnectAsync(options);
        if (connection.GetServers().Count(s => s.ServerType == ServerType.Cluster && s.IsConnected && !s.IsReplica) != Masters)
            throw new InvalidOperationException($"StackExchange.Redis does not see {Masters} connected cluster masters:\n{connection.GetStatus()}");
    }

    /// <summary>Waits until every running node says cluster_state:ok (all 16384 slots served and agreed on).</summary>
    public async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (true)
        {
            var ready = true;
            foreach (var node in nodes.Where(n => n.IsRunning))
            {
                var info = await node.CliAsync("cluster", "info");
                last = $"node {node.Address}: {info.Output.Split('\n').FirstOrDefault(l => l.StartsWith("cluster_state", StringComparison.Ordinal)) ?? info.Output}";
                if (!info.Output.Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    ready = false;
                    break;
                }
            }
            if (ready) return;
            if (deadline.Elapsed > ClusterReadyTimeout)
                throw new InvalidOperationException($"The Redis Cluster did not reach cluster_state:ok within {ClusterReadyTimeout.TotalSeconds} s; {last.Trim()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Every master reports a replica online: WAIT can be answered from the start.</summary>
    private async Task WaitForReplicasInSyncAsync()
    {
        var deadline = Stopwatch.StartNew();
        foreach (var master in nodes.Take(Masters))
        {
            while (!(await master.CliAsync("info", "replication")).Output.Contains("state=online", StringComparison.Ordinal))
            {
                if (deadline.Elapsed > ClusterReadyTimeout)
                    throw new InvalidOperationException($"master {master.Address} has no replica online after {ClusterReadyTimeout.TotalSeconds} s");
                await Task.Delay(100);
            }
        }
    }
}
