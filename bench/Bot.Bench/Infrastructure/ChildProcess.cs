using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;

namespace Bot.Bench.Infrastructure;

/// <summary>A process the bench started: a dispatcher replica (this program in its dispatcher role), a built host, the stub or a Node peer.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly Queue<string> tail = new();
    private readonly Channel<string> protocol = Channel.CreateUnbounded<string>();
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool stopsOnStdin;

    private ChildProcess(Process process, string name, bool stopsOnStdin)
    {
        this.stopsOnStdin = stopsOnStdin;
        CpuMeter.Track(process.Id);
        this.process = process;
        Name = name;
        process.OutputDataReceived += (_, e) => OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int Id => process.Id;
    public bool HasExited => process.HasExited;

    /// <summary>Starts this program again as <c>--role dispatcher</c> with the given settings.</summary>
    public static async Task<ChildProcess> StartDispatcherAsync(string name, IDictionary<string, string?> settings)
    {
        var self = Environment.ProcessPath!;
        var psi = Path.GetFileNameWithoutExtension(self) == "dotnet"
            ? new ProcessStartInfo(self) { ArgumentList = { Assembly.GetEntryAssembly()!.Location } }
            : new ProcessStartInfo(self);
        psi.ArgumentList.Add("--role");
        psi.ArgumentList.Add("dispatcher");
        foreach (var (key, value) in settings) psi.ArgumentList.Add($"{key}={value}");
        var child = Start(psi, name, stopsOnStdin: true);
        await child.WaitReadyAsync(TimeSpan.FromSeconds(30));
        return child;
    }

    /// <summary>The built Bot.Webhook (employer API + webhook) on a loopback port, configured through environment variables.</summary>
    public static ChildProcess StartWebhook(string url, IDictionary<string, string?> settings) =>
        StartHost("Bot.Webhook", "BENCH_WEBHOOK_DLL", "WebhookAssembly", ["--urls", url], settings, "webhook");

    /// <summary>
    /// The built Bot.Scheduler (the dispatcher replica as deployed), configured through environment variables; it
    /// listens on nothing (no <c>Dispatcher:HealthPort</c>), so the caller decides when it is ready (e.g. subscribed to wake-ups).
    /// </summary>
    public static ChildProcess StartScheduler(IDictionary<string, string?> settings) =>
        StartHost("Bot.Scheduler", "BENCH_SCHEDULER_DLL", "SchedulerAssembly", [], settings, "scheduler");

    /// <summary>
    /// A built host (<paramref name="copyVariable"/>: a copy of the build, so a rebuild of src/ during a long run cannot
    /// swap it underneath), in Production with logs at Warning.
    /// </summary>
    private static ChildProcess StartHost(string host, string copyVariable, string assemblyKey, string[] args, IDictionary<string, string?> settings, string name)
    {
        var dll = Environment.GetEnvironmentVariable(copyVariable) is { Length: > 0 } copy
            ? copy
            : typeof(ChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == assemblyKey).Value!;
        if (!File.Exists(dll)) throw new FileNotFoundException($"{host} is not built at {dll}", dll);
        var psi = new ProcessStartInfo("dotnet") { ArgumentList = { dll }, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        foreach (var (key, value) in settings) psi.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        var child = Start(psi, name, stopsOnStdin: false);
        child.ready.TrySetResult();
        return child;
    }

    /// <summary>
    /// The built tools/WhatsAppStub as run.sh starts it, listening on <paramref name="url"/>'s port; ready once
    /// <c>/stub/received</c> answers. BENCH_STUB_DLL runs another build of it (e.g. the one before a change).
    /// </summary>
    public static async Task<ChildProcess> StartStubAsync(string url)
    {
        var dll = Environment.GetEnvironmentVariable("BENCH_STUB_DLL") is { Length: > 0 } other ? other : Built("StubAssembly");
        var psi = new ProcessStartInfo("dotnet") { ArgumentList = { dll, "--port", new Uri(url).Port.ToString(CultureInfo.InvariantCulture) }, WorkingDirectory = Path.GetDirectoryName(dll)! };
        var child = Start(psi, "whatsapp-stub", stopsOnStdin: false);
        child.Description = dll;
        using var probe = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (child.HasExited) throw new InvalidOperationException($"the stub exited:\n{child.Tail()}");
            try
            {
                using var health = await probe.GetAsync("/stub/received");
                if (health.IsSuccessStatusCode) break;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the stub did not answer within 30 s:\n{child.Tail()}");
            await Task.Delay(100);
        }
        child.ready.TrySetResult();
        return child;
    }

    /// <summary>
    /// A Node peer under bench/peers/&lt;name&gt; (<c>node fanout.mjs args…</c>), after <c>npm ci</c> when its node_modules is
    /// missing; it speaks the dispatcher role's line protocol (<c>BENCH ready</c>, then commands on stdin).
    /// </summary>
    public static async Task<ChildProcess> StartPeerAsync(string peer, IEnumerable<string> args, TimeSpan readyWithin)
    {
        var directory = Path.Combine(Built("PeersDirectory", directory: true), peer);
        if (!Directory.Exists(Path.Combine(directory, "node_modules")))
        {
            using var npm = Process.Start(new ProcessStartInfo("npm") { ArgumentList = { "ci", "--no-audit", "--no-fund" }, WorkingDirectory = directory })!;
            await npm.WaitForExitAsync();
            if (npm.ExitCode != 0) throw new InvalidOperationException($"npm ci in {directory} exited with {npm.ExitCode}");
        }
        var psi = new ProcessStartInfo("node") { ArgumentList = { "fanout.mjs" }, WorkingDirectory = directory };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        var child = Start(psi, peer, stopsOnStdin: true);
        await child.WaitReadyAsync(readyWithin);
        return child;
    }

    /// <summary>Sends one protocol line and waits for the child's next <c>BENCH</c> answer (without the prefix).</summary>
    public async Task<string> AskAsync(string line, TimeSpan timeout)
    {
        await process.StandardInput.WriteLineAsync(line);
        await process.StandardInput.FlushAsync();
        using var cts = new CancellationTokenSource(timeout);
        var exited = process.WaitForExitAsync(cts.Token);
        var answer = protocol.Reader.ReadAsync(cts.Token).AsTask();
        await Task.WhenAny(answer, exited);
        if (answer.IsCompletedSuccessfully) return answer.Result;
        throw new InvalidOperationException(process.HasExited
            ? $"{Name} exited (code {process.ExitCode}) before answering '{line}':\n{Tail()}"
            : $"{Name} did not answer '{line}' within {timeout.TotalSeconds:N0} s:\n{Tail()}");
    }

    /// <summary>What was started, for the report.</summary>
    public string Description { get; private set; } = "";

    private static string Built(string key, bool directory = false)
    {
        var path = typeof(ChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;
        return (directory ? Directory.Exists(path) : File.Exists(path)) ? path : throw new FileNotFoundException($"not found: {path}", path);
    }

    private static ChildProcess Start(ProcessStartInfo psi, string name, bool stopsOnStdin)
    {
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        return new ChildProcess(Process.Start(psi)!, name, stopsOnStdin);
    }

    private void OnLine(string? line, bool stdout)
    {
        if (line is null) return;
        if (stdout && line.StartsWith("BENCH ", StringComparison.Ordinal))
        {
            if (line == "BENCH ready") ready.TrySetResult();
            else protocol.Writer.TryWrite(line["BENCH ".Length..]);
            return;
        }
        lock (tail)
        {
            tail.Enqueue(line);
            if (tail.Count > 40) tail.Dequeue();
        }
    }

    public string Tail()
    {
        lock (tail) return string.Join('\n', tail);
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(timeout));
        if (first != ready.Task)
            throw new InvalidOperationException($"{Name} did not start ({(first == exited ? $"exit code {process.ExitCode}" : "timeout")}):\n{Tail()}");
    }

    public async Task<DispatcherStats> StatsAsync()
    {
        await process.StandardInput.WriteLineAsync("stats");
        await process.StandardInput.FlushAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var line = await protocol.Reader.ReadAsync(cts.Token);
        return JsonSerializer.Deserialize<DispatcherStats>(line["stats ".Length..])!;
    }

    /// <summary>Peak resident set size so far (VmHWM), in bytes.</summary>
    public long PeakRss() => ProcStatus("VmHWM");

    public long Rss() => ProcStatus("VmRSS");

    private long ProcStatus(string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        CpuMeter.Untrack(process.Id);
        try
        {
            if (!process.HasExited && !stopsOnStdin)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            else if (!process.HasExited)
            {
                await process.StandardInput.WriteLineAsync("stop");
                process.StandardInput.Close();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                try
                {
                    await process.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
        }
        catch (IOException)
        {
            // Already gone.
        }
        process.Dispose();
    }
}
