using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Bot.Testing;

/// <summary>A built host (Bot.Scheduler or Bot.Webhook) running as a real OS process, configured through environment variables.</summary>
public sealed partial class HostProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private HostProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public IReadOnlyList<string> Output => [.. output];

    /// <summary>A dispatcher replica, as Bot.Scheduler runs in production.</summary>
    /// <param name="shipped">Started from its build output, so the shipped appsettings.json applies, logging and all.</param>
    public static HostProcess StartScheduler(IDictionary<string, string> settings, bool shipped = false) => Start("Bot.Scheduler", settings, shipped);

    /// <summary>The webhook/API host listening on <paramref name="port"/>; started from the repository root, as run.sh does.</summary>
    /// <param name="shipped">Started from its build output, so the shipped appsettings.json applies, logging and all.</param>
    public static HostProcess StartWebhook(int port, IDictionary<string, string> settings, bool shipped = false) =>
        Start("Bot.Webhook", new Dictionary<string, string>(settings) { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" }, shipped);

    private static HostProcess Start(string project, IDictionary<string, string> settings, bool shipped)
    {
        var dll = BuiltDll(project);
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            // The content root is the working directory: appsettings.json is read from there.
            WorkingDirectory = shipped ? Path.GetDirectoryName(dll)! : Repo.Root,
        };
        psi.ArgumentList.Add(dll);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        if (!shipped) UseTestLogging(psi.Environment);
        foreach (var (key, value) in settings) psi.Environment[key.Replace(":", "__")] = value;
        return new HostProcess(Process.Start(psi)!);
    }

    /// <summary>One line per entry at Information, whatever appsettings.json says (it is not read from the repository root).</summary>
    private static void UseTestLogging(IDictionary<string, string?> environment)
    {
        environment["Logging__Console__FormatterName"] = "simple";
        environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        environment["Logging__LogLevel__Default"] = "Information";
        environment["Logging__LogLevel__RedLockNet"] = "Warning";
        environment["Logging__LogLevel__System.Net.Http"] = "Warning";
    }

    /// <summary>Whether this process acquired the lock with this id (the value of the lock key in Redis).</summary>
    public bool Acquired(string lockId) => Output.Any(l => l.Contains($": lock Acquired ({lockId})", StringComparison.Ordinal));

    /// <summary>kill -9: no shutdown, no cleanup, requests in flight are cut.</summary>
    public void Kill() => process.Kill(entireProcessTree: true);

    /// <summary>SIGSTOP: the process stalls as in a long GC pause or a frozen VM, sockets and timers included.</summary>
    public void Suspend() => Signal("STOP");

    /// <summary>SIGCONT: the stalled process goes on where it stopped, unaware of the time that passed.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {process.Id}") { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {process.Id} failed with exit code {kill.ExitCode}");
    }

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

    /// <summary>src/&lt;project&gt;'s build output for the configuration these tests were built in.</summary>
    private static string BuiltDll(string project)
    {
        var configuration = ConfigurationPattern().Match(AppContext.BaseDirectory).Groups[1].Value;
        var dll = Repo.PathOf(Path.Combine("src", project, "bin", configuration, "net10.0", $"{project}.dll"));
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build src/{project} ({configuration}) first: {dll} is missing.");
    }

    [GeneratedRegex(@"[/\\]bin[/\\]([^/\\]+)[/\\]")]
    private static partial Regex ConfigurationPattern();
}
