using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;
using Testcontainers.Redis;

namespace Bot.Testing;

/// <summary>
/// A real Redis for tests: a Testcontainers container where Docker answers, otherwise a local
/// <c>redis-server</c> process on a free loopback port. Never a mock, never a skip.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    public const string KindTestcontainers = "testcontainers";
    public const string KindRedisServer = "redis-server";


    private const string Image = "redis:7.0";
    private const int ContainerPort = 6379;
    private static readonly TimeSpan ContainerStartTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ProcessStartTimeout = TimeSpan.FromSeconds(10);

    private readonly string[] _extraArgs;
    private readonly Queue<string> _log = new();
    private RedisContainer? _container;
    private Process? _process;
    private string? _executable;
    private string? _dataDir;
    private ConnectionMultiplexer? _connection;

    // xunit needs exactly one public constructor on a fixture.
    public RedisServer() : this(null)
    {
    }

    private RedisServer(string? extraArgs)
    {
        // Plain whitespace splitting: extra args cannot contain quoted or empty values.
        _extraArgs = extraArgs?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
    }

    /// <summary>"127.0.0.1:P,allowAdmin=true" (or the container's host and mapped port).</summary>
    public string ConnectionString { get; private set; } = "";

    public string Host { get; private set; } = "127.0.0.1";

    public int Port { get; private set; }

    /// <summary><see cref="KindTestcontainers"/> or <see cref="KindRedisServer"/>.</summary>
    public string Kind { get; private set; } = "";

    /// <summary>A multiplexer shared by the tests; it reconnects by itself after <see cref="RestartAsync"/>.</summary>
    public IConnectionMultiplexer Connection =>
        _connection ?? throw new InvalidOperationException("RedisServer has not been initialized.");

    /// <summary>Starts a Redis of its own (e.g. for a test that kills it); the caller disposes it.</summary>
    public static async Task<RedisServer> StartAsync(string? extraArgs = null)
    {
        var server = new RedisServer(extraArgs);
        try
        {
            await server.InitializeAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async Task InitializeAsync()
    {
        var dockerReason = await TryStartContainerAsync();
        if (dockerReason is not null)
        {
            _executable = FindExecutable() ?? throw new InvalidOperationException(
                $"Docker is unavailable ({dockerReason}) and redis-server was not found — install it with: apt-get install -y redis-server");
            _dataDir = Directory.CreateTempSubdirectory("bot-tests-redis-").FullName;
            await StartProcessOnFreePortAsync(dockerReason);
            Kind = KindRedisServer;
        }

        ConnectionString = $"{Host}:{Port},allowAdmin=true";
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AbortOnConnectFail = false;
        // Fault tests restart the server; reconnect within a fraction of a second, not the default seconds.
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        options.ReconnectRetryPolicy = new LinearRetry(100);
        _connection = await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>Kills the redis-server process abruptly (no shutdown save).</summary>
    public async Task KillAsync()
    {
        EnsureProcessKind(nameof(KillAsync));
        await StopProcessAsync();
    }

    /// <summary>
    /// Kills a redis-server process without waiting, for a test process that is exiting: there is no time left for
    /// async clean-up then, and a server left running would outlive the run. A container is reaped by Testcontainers.
    /// </summary>
    public void KillNow()
    {
        try
        {
            _process?.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>Starts redis-server again on the same port with the same data directory.</summary>
    public async Task RestartAsync()
    {
        EnsureProcessKind(nameof(RestartAsync));
        await StopProcessAsync();
        await StartProcessAsync();
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        await StopProcessAsync();

        if (_dataDir is not null)
        {
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp dir is harmless.
            }
        }
    }

    /// <returns>null when the container runs, otherwise why Docker could not be used.</returns>
    private async Task<string?> TryStartContainerAsync()
    {
        try
        {
            var builder = new RedisBuilder(Image);
            if (_extraArgs.Length > 0)
            {
                // The redis image's entrypoint prefixes "redis-server" to args starting with "--".
                builder = builder.WithCommand(_extraArgs);
            }

            _container = builder.Build();
            using var cts = new CancellationTokenSource(ContainerStartTimeout);
            await _container.StartAsync(cts.Token);

            Host = _container.Hostname;
            Port = _container.GetMappedPublicPort(ContainerPort);
            Kind = KindTestcontainers;
            return null;
        }
        catch (Exception ex)
        {
            if (_container is not null)
            {
                try
                {
                    await _container.DisposeAsync();
                }
                catch (Exception)
                {
                    // Docker is already failing; the original reason is what matters.
                }

                _container = null;
            }

            // Testcontainers' messages span several lines; keep the reason on one.
            var lines = ex.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return $"{ex.GetType().Name}: {string.Join(' ', lines)}";
        }
    }

    internal static string? FindExecutable(string name = "redis-server")
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .Append($"/usr/bin/{name}")
            .Append($"/usr/local/bin/{name}")
            .FirstOrDefault(File.Exists);
    }

    private async Task StartProcessOnFreePortAsync(string dockerReason)
    {
        // The port is free when probed but may be taken before redis binds it; retry on a new one.
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            Port = Ports.Free();
            try
            {
                await StartProcessAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < attempts && LogContains("Address already in use"))
            {
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException($"{ex.Message}\nDocker was not used: {dockerReason}", ex);
            }
        }
    }

    private async Task StartProcessAsync()
    {
        // Later arguments win in redis-server, so extra args can override these defaults.
        string[] args =
        [
            "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", _dataDir!, .. _extraArgs,
        ];

        lock (_log)
        {
            _log.Clear();
        }

        var process = TiedProcess.Start(_executable!, args, _dataDir!);
        process.OutputDataReceived += (_, e) => AppendLog(e.Data);
        process.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + ProcessStartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                _process = null;
                throw new InvalidOperationException(
                    $"redis-server ({_executable}) exited with code {process.ExitCode} on port {Port}:\n{LogTail()}");
            }

            if (await PingAsync(Port))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                await StopProcessAsync();
                throw new InvalidOperationException(
                    $"redis-server ({_executable}) did not answer PING on port {Port} within {ProcessStartTimeout.TotalSeconds} s:\n{LogTail()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Whether a Redis answers PING with PONG on this loopback port (not while it is still loading its AOF).</summary>
    internal static async Task<bool> PingAsync(int port)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, cts.Token);
            // "-LOADING" while an AOF is replayed after a restart does not count as ready.
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task StopProcessAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }
    }

    private void EnsureProcessKind(string operation)
    {
        if (Kind != KindRedisServer)
        {
            throw new NotSupportedException(
                $"RedisServer.{operation} is only supported for the {KindRedisServer} kind; this instance is {Kind}.");
        }
    }

    private void AppendLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Enqueue(line);
            if (_log.Count > 100)
            {
                _log.Dequeue();
            }
        }
    }

    private string LogTail()
    {
        lock (_log)
        {
            return string.Join('\n', _log);
        }
    }

    private bool LogContains(string text) => LogTail().Contains(text, StringComparison.OrdinalIgnoreCase);
}
