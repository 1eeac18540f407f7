using System.Diagnostics;
using StackExchange.Redis;

namespace Bot.Testing;

/// <summary>
/// A real three-master Redis Cluster for tests: three local <c>redis-server --cluster-enabled yes</c> processes (AOF with
/// appendfsync always, as shipped), each in a data directory of its own, joined by <c>redis-cli --cluster create</c>.
/// A node can be killed abruptly and started again from its AOF and nodes.conf, as after a crash. The nodes die with
/// the test process (<see cref="TiedProcess"/>).
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    public const int Masters = 3;

    private static readonly TimeSpan NodeStartTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ClusterReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Node[] nodes;
    private readonly string redisCli;
    private ConnectionMultiplexer? connection;

    private RedisCluster(string redisServer, string redisCli)
    {
        this.redisCli = redisCli;
        nodes = [.. Enumerable.Range(0, Masters).Select(_ => new Node(redisServer))];
    }

    /// <summary>"127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3,allowAdmin=true": every master as a seed, as a deployment lists them.</summary>
    public string ConnectionString { get; private set; } = "";

    public IReadOnlyList<int> Ports => [.. nodes.Select(n => n.Port)];

    /// <summary>A multiplexer shared by the tests; it follows the cluster through a node's kill and restart.</summary>
    public IConnectionMultiplexer Connection =>
        connection ?? throw new InvalidOperationException("RedisCluster has not been started.");

    /// <summary>Starts a cluster of its own (a fault test kills its nodes); the caller disposes it.</summary>
    public static async Task<RedisCluster> StartAsync()
    {
        const string install = "install it with: apt-get install -y redis-server";
        var cluster = new RedisCluster(
            RedisServer.FindExecutable() ?? throw new InvalidOperationException($"redis-server was not found — {install}"),
            RedisServer.FindExecutable("redis-cli") ?? throw new InvalidOperationException($"redis-cli was not found — {install}"));
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

    /// <summary>The index (in <see cref="Ports"/>) of the master serving <paramref name="key"/>'s hash slot.</summary>
    public int NodeOf(RedisKey key)
    {
        var endpoint = Connection.GetServer(key).EndPoint;
        return Array.FindIndex(nodes, n => endpoint.ToString()?.EndsWith($":{n.Port}", StringComparison.Ordinal) == true);
    }

    /// <summary>Kills one master abruptly (SIGKILL: no shutdown save, as in a crash); its slots are unserved until restart.</summary>
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
        foreach (var node in nodes) await node.StartOnFreePortAsync();
        var create = await RunCliAsync(["--cluster", "create", .. nodes.Select(n => $"127.0.0.1:{n.Port}"), "--cluster-replicas", "0", "--cluster-yes"]);
        if (create.ExitCode != 0)
            throw new InvalidOperationException($"redis-cli --cluster create failed ({create.ExitCode}):\n{create.Output}");
        await WaitUntilReadyAsync();

        ConnectionString = string.Join(',', nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",allowAdmin=true";
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AbortOnConnectFail = false;
        // Fault tests restart a node; reconnect within a fraction of a second, not the default seconds.
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        options.ReconnectRetryPolicy = new LinearRetry(100);
        connection = await ConnectionMultiplexer.ConnectAsync(options);
        if (connection.GetServers().Count(s => s.ServerType == ServerType.Cluster && s.IsConnected) != Masters)
            throw new InvalidOperationException($"StackExchange.Redis does not see {Masters} connected cluster nodes:\n{connection.GetStatus()}");
    }

    /// <summary>Waits until every node says cluster_state:ok (all 16384 slots served and agreed on).</summary>
    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (true)
        {
            var ready = true;
            foreach (var node in nodes)
            {
                var info = await RunCliAsync(["-p", node.Port.ToString(), "cluster", "info"]);
                last = $"node 127.0.0.1:{node.Port}: {info.Output.Split('\n').FirstOrDefault(l => l.StartsWith("cluster_state", StringComparison.Ordinal)) ?? info.Output}";
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

    private async Task<(int ExitCode, string Output)> RunCliAsync(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(redisCli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ClusterReadyTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new InvalidOperationException($"redis-cli {string.Join(' ', psi.ArgumentList)} did not finish within {ClusterReadyTimeout.TotalSeconds} s");
        }
        return (process.ExitCode, (await stdout + await stderr).Replace("\r", "", StringComparison.Ordinal));
    }

    /// <summary>One master: a redis-server process with a data directory that outlives it (AOF, nodes.conf).</summary>
    private sealed class Node(string executable) : IAsyncDisposable
    {
        private readonly string dataDir = Directory.CreateTempSubdirectory("bot-tests-redis-cluster-").FullName;
        private readonly Queue<string> log = new();
        private Process? process;

        public int Port { get; private set; }

        public async Task StartOnFreePortAsync()
        {
            // The ports are free when probed but may be taken before redis binds them; retry on new ones.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await StartAsync(Bot.Testing.Ports.FreeWithClusterBus());
                    return;
                }
                catch (InvalidOperationException) when (attempt < 3 && Log().Contains("Address already in use", StringComparison.OrdinalIgnoreCase))
                {
                }
            }
        }

        public async Task StartAsync(int port)
        {
            Port = port;
            string[] args =
            [
                "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dataDir, "--daemonize", "no",
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                // Long enough that a restart within seconds never marks the node failed (no replica could take over
                // anyway); short enough that a failure mark is undone soon after it is back (2 × the timeout).
                "--cluster-node-timeout", "5000",
                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            ];
            lock (log) log.Clear();
            var started = TiedProcess.Start(executable, args, dataDir);
            started.OutputDataReceived += (_, e) => Append(e.Data);
            started.ErrorDataReceived += (_, e) => Append(e.Data);
            started.Start();
            started.BeginOutputReadLine();
            started.BeginErrorReadLine();
            process = started;

            var deadline = Stopwatch.StartNew();
            while (!await RedisServer.PingAsync(port))
            {
                if (started.HasExited || deadline.Elapsed > NodeStartTimeout)
                {
                    await StopAsync();
                    throw new InvalidOperationException($"redis-server (cluster node) on port {port} did not answer PING within {NodeStartTimeout.TotalSeconds} s:\n{Log()}");
                }
                await Task.Delay(50);
            }
        }

        public async Task StopAsync()
        {
            var running = process;
            process = null;
            if (running is null) return;
            using (running)
            {
                if (!running.HasExited) running.Kill(entireProcessTree: true);
                await running.WaitForExitAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp dir is harmless.
            }
        }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (log)
            {
                log.Enqueue(line);
                if (log.Count > 100) log.Dequeue();
            }
        }

        private string Log()
        {
            lock (log) return string.Join('\n', log);
        }
    }
}
