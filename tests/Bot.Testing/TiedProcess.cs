using System.Diagnostics;

namespace Bot.Testing;

/// <summary>
/// Starts a server process (redis-server) that dies with this test process. The test runner kills its test host
/// when a run ends, and then no ProcessExit handler runs: a server started directly would outlive the run. Here a
/// shell starts it and kills it as soon as the shell's stdin — a pipe only this process holds — reaches end of file,
/// which the kernel sees to however this process ends.
/// </summary>
public static class TiedProcess
{
    // Background jobs of a non-interactive shell read /dev/null, hence the copy of stdin on fd 3. The shell waits for
    // the server, so it exits (with the server's exit code) when the server does.
    private const string Script = """exec 3<&0; "$0" "$@" & server=$!; (read -r _ <&3; kill -9 $server) & wait $server""";

    /// <summary>Starts <paramref name="executable"/>; stdout and stderr are redirected for the caller to read.
    /// Kill it with <c>Kill(entireProcessTree: true)</c>: the shell, the server and the watcher go together.</summary>
    public static Process Start(string executable, IEnumerable<string> args, string workingDirectory)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add(executable);
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        return new Process { StartInfo = psi };
    }
}
