using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Bot.Testing;

/// <summary>The built Bot.Scheduler running as a real OS process, configured through environment variables.</summary>
public sealed partial class SchedulerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private SchedulerProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => process.Id;

    public bool HasExited => process.HasExited;

    public IReadOnlyList<string> Output => [.. output];

    public static SchedulerProcess Start(IDictionary<string, string> settings)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(SchedulerDll);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["Logging__Console__FormatterName"] = "simple";
        psi.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        psi.Environment["Logging__LogLevel__RedLockNet"] = "Warning";
        psi.Environment["Logging__LogLevel__System.Net.Http"] = "Warning";
        foreach (var (key, value) in settings) psi.Environment[key.Replace(":", "__")] = value;
        return new SchedulerProcess(Process.Start(psi)!);
    }

    /// <summary>Whether this process acquired the lock with this id (the value of the lock key in Redis).</summary>
    public bool Acquired(string lockId) => Output.Any(l => l.Contains($": lock Acquired ({lockId})", StringComparison.Ordinal));

    /// <summary>kill -9: no shutdown, no cleanup, requests in flight are cut.</summary>
    public void Kill() => process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, as docker stop or systemd sends: the host shuts down gracefully.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]);
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -TERM {process.Id} failed with exit code {kill.ExitCode}");
    }

    public Task WaitForExitAsync(TimeSpan timeout) => process.WaitForExitAsync(new CancellationTokenSource(timeout).Token);

    public int CountLines(string fragment) => Output.Count(l => l.Contains(fragment, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    /// <summary>src/Bot.Scheduler's build output for the configuration these tests were built in.</summary>
    private static string SchedulerDll
    {
        get
        {
            var configuration = ConfigurationPattern().Match(AppContext.BaseDirectory).Groups[1].Value;
            var dll = Repo.PathOf(Path.Combine("src", "Bot.Scheduler", "bin", configuration, "net10.0", "Bot.Scheduler.dll"));
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build src/Bot.Scheduler ({configuration}) first: {dll} is missing.");
        }
    }

    [GeneratedRegex(@"[/\\]bin[/\\]([^/\\]+)[/\\]")]
    private static partial Regex ConfigurationPattern();
}
