using System.Diagnostics;

namespace Bot.Testing;

/// <summary>Polls a probe until a condition holds or a deadline passes, then fails the test.</summary>
public static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (stopwatch.Elapsed >= timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0.###} s waiting for {what}; last value: {Describe(value)}");
                throw new UnreachableException();
            }

            await Task.Delay(PollInterval);
        }
    }

    public static Task WaitAsync(Func<Task<bool>> probe, TimeSpan timeout, string what) =>
        WaitAsync(probe, static ok => ok, timeout, what);

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        System.Collections.IEnumerable items and not System.Collections.IDictionary =>
            $"[{string.Join(", ", items.Cast<object?>().Select(item => item?.ToString() ?? "null"))}]",
        _ => value.ToString() ?? "null",
    };
}
