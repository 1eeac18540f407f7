using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Bot.Bench.Infrastructure;

/// <summary>
/// A redis-server of the bench's own on a free loopback port. Throughput runs use <c>--save "" --appendonly no</c>
/// (no disk in the measured path); <paramref name="extraArgs"/> can switch AOF on to see what durability costs.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly string dataDir;

    private RedisProcess(Process process, string dataDir, int port, ConnectionMultiplexer connection, string description)
    {
        this.process = process;
        this.dataDir = dataDir;
        Port = port;
        Connection = connection;
        Description = description;
    }

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";
    public string Description { get; }
    public ConnectionMultiplexer Connection { get; }
    public IDatabase Db => Connection.GetDatabase();
    public IServer Server => Connection.GetServer(Connection.GetEndPoints()[0]);
    public int ProcessId => process.Id;

    public static async Task<RedisProcess> StartAsync(params string[] extraArgs)
    {
        var executable = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server not found — install it with: apt-get install -y redis-server");
        var dataDir = Directory.CreateTempSubdirectory("bot-bench-redis-").FullName;
        var port = FreePort();
        string[] args = ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", dataDir, .. extraArgs];
        var psi = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        var process = Process.Start(psi)!;
        CpuMeter.Track(process.Id);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var options = ConfigurationOptions.Parse($"127.0.0.1:{port},allowAdmin=true");
        options.AbortOnConnectFail = false;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on port {port}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
        var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var description = string.Join(' ', args.Where(a => a != dataDir && a != "--dir").Select(a => a.Length == 0 ? "\"\"" : a));
        return new RedisProcess(process, dataDir, port, connection, description);
    }

    /// <summary>A clean slate between scenarios: no keys, no command statistics.</summary>
    public async Task ResetAsync()
    {
        await Server.FlushAllDatabasesAsync();
        await Server.ExecuteAsync("CONFIG", "RESETSTAT");
    }

    public async Task<Dictionary<string, string>> InfoAsync(string section)
    {
        var raw = await Server.InfoRawAsync(section) ?? "";
        var result = new Dictionary<string, string>();
        foreach (var line in raw.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#')) continue;
            var colon = line.IndexOf(':');
            if (colon > 0) result[line[..colon]] = line[(colon + 1)..];
        }
        return result;
    }

    public async Task<long> UsedMemoryAsync() => long.Parse((await InfoAsync("memory"))["used_memory"], CultureInfo.InvariantCulture);

    public async Task<string> VersionAsync() => (await InfoAsync("server"))["redis_version"];

    /// <summary>Calls per command since the last reset (<c>INFO commandstats</c>; commands run inside Lua scripts count too).</summary>
    public async Task<Dictionary<string, long>> CommandCallsAsync()
    {
        var result = new Dictionary<string, long>();
        foreach (var (key, value) in await InfoAsync("commandstats"))
        {
            // cmdstat_evalsha:calls=3,usec=...
            var name = key["cmdstat_".Length..];
            var calls = value.Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal))["calls=".Length..];
            result[name] = long.Parse(calls, CultureInfo.InvariantCulture);
        }
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        CpuMeter.Untrack(process.Id);
        if (!process.HasExited) process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
