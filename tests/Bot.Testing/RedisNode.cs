using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Bot.Testing;

/// <summary>
/// One redis-server process of a multi-node fixture (<see cref="RedisCluster"/>, <see cref="RedisSentinels"/>), with a
/// data directory that outlives it (AOF, nodes.conf, sentinel.conf), so it can be killed abruptly, frozen (SIGSTOP) and
/// started again. It dies with the test process (<see cref="TiedProcess"/>).
/// </summary>
public sealed partial class RedisNode : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly string executable;
    private readonly Func<int, string, IReadOnlyList<string>> arguments;
    private readonly Queue<string> log = new();
    private Process? process;

    /// <param name="arguments">redis-server's arguments for a port and the data directory.</param>
    internal RedisNode(string executable, Func<int, string, IReadOnlyList<string>> arguments)
    {
        this.executable = executable;
        this.arguments = arguments;
    }

    public string DataDir { get; } = Directory.CreateTempSubdirectory("bot-tests-redis-node-").FullName;

    public int Port { get; private set; }

    public string Address => $"127.0.0.1:{Port}";

    public bool IsRunning => process is { HasExited: false };

    /// <summary>redis-server itself (the tied shell's child), for SIGSTOP and SIGCONT.</summary>
    public int ServerPid { get; private set; }

    internal async Task StartOnFreePortAsync(bool clusterBus)
    {
        // The ports are free when probed but may be taken before redis binds them; retry on new ones.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartAsync(clusterBus ? Ports.FreeWithClusterBus() : Ports.Free());
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && Log().Contains("Address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    internal async Task StartAsync(int port)
    {
        Port = port;
        lock (log) log.Clear();
        var started = TiedProcess.Start(executable, arguments(port, DataDir), DataDir);
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.Start();
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        process = started;

        var deadline = Stopwatch.StartNew();
        while (!await RedisServer.PingAsync(port))
        {
            if (started.HasExited || deadline.Elapsed > StartTimeout)
            {
                await StopAsync();
                throw new InvalidOperationException($"redis-server on port {port} did not answer PING within {StartTimeout.TotalSeconds} s:\n{Log()}");
            }
            await Task.Delay(50);
        }
        var info = await RedisCli.RunAsync(["-p", port.ToString(), "info", "server"]);
        var pid = ProcessIdPattern().Match(info.Output);
        ServerPid = pid.Success ? int.Parse(pid.Groups[1].Value) : throw new InvalidOperationException($"no process_id in INFO server of port {port}:\n{info.Output}");
    }

    /// <summary>kill -9: no shutdown save, as in a crash.</summary>
    public async Task StopAsync()
    {
        var running = process;
        process = null;
        if (running is null) return;
        using (running)
        {
            if (!running.HasExited)
            {
                // A frozen server still dies of SIGKILL; its shell and watcher go with it.
                running.Kill(entireProcessTree: true);
            }
            await running.WaitForExitAsync();
        }
    }

    /// <summary>SIGSTOP: the process stays, its sockets stay open, it answers nothing (a frozen VM, a long GC).</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT after <see cref="FreezeAsync"/>.</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    /// <summary>redis-cli against this node.</summary>
    public Task<(int ExitCode, string Output)> CliAsync(params string[] args) => RedisCli.RunAsync(["-p", Port.ToString(), .. args]);

    public string Log()
    {
        lock (log) return string.Join('\n', log);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp dir is harmless.
        }
    }

    private async Task SignalAsync(string signal)
    {
        // kill with pid 0 would signal this whole process group.
        if (ServerPid <= 0) throw new InvalidOperationException($"redis-server on port {Port} has not started");
        using var kill = Process.Start("kill", [$"-{signal}", ServerPid.ToString()]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {ServerPid} failed with exit code {kill.ExitCode}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (log)
        {
            log.Enqueue(line);
            if (log.Count > 200) log.Dequeue();
        }
    }

    [GeneratedRegex(@"process_id:(\d+)")]
    private static partial Regex ProcessIdPattern();
}

/// <summary>redis-cli, found once, with a deadline on every call.</summary>
public static class RedisCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<string> Executable = new(() => RedisServer.FindExecutable("redis-cli")
        ?? throw new InvalidOperationException("redis-cli was not found — install it with: apt-get install -y redis-server"));

    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Executable.Value) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new InvalidOperationException($"redis-cli {string.Join(' ', psi.ArgumentList)} did not finish within {Timeout.TotalSeconds} s");
        }
        return (process.ExitCode, (await stdout + await stderr).Replace("\r", "", StringComparison.Ordinal));
    }
}
