using System.Collections.Concurrent;
using System.Globalization;

namespace Bot.Bench.Infrastructure;

/// <summary>
/// How busy the machine was with work that is not the bench's own (other builds and test runs on a shared box):
/// busy time from /proc/stat minus the CPU time of this process, redis-server and the child processes it started.
/// A figure taken while others used a large share of the 2 cores is noisy, and the report says so.
/// </summary>
public static class CpuMeter
{
    private static readonly ConcurrentDictionary<int, bool> Tracked = new();
    private static long exitedTicks;

    public static void Track(int pid) => Tracked[pid] = true;

    /// <summary>Call just before a tracked process is stopped, so its CPU time stays counted as the bench's.</summary>
    public static void Untrack(int pid)
    {
        if (Tracked.TryRemove(pid, out _)) Interlocked.Add(ref exitedTicks, ProcessTicks(pid));
    }

    public readonly record struct Sample(long Total, long Busy, long Own);

    public static Sample Take()
    {
        var (total, busy) = SystemTicks();
        var own = ProcessTicks(Environment.ProcessId) + Tracked.Keys.Sum(ProcessTicks) + Interlocked.Read(ref exitedTicks);
        return new Sample(total, busy, own);
    }

    /// <summary>Share of the whole machine (all cores) used by other processes between two samples, in percent.</summary>
    public static double OthersPercent(Sample from, Sample to)
    {
        var total = to.Total - from.Total;
        if (total <= 0) return double.NaN;
        var others = (to.Busy - from.Busy) - (to.Own - from.Own);
        return Math.Max(0, 100.0 * others / total);
    }

    private static (long Total, long Busy) SystemTicks()
    {
        try
        {
            // cpu  user nice system idle iowait irq softirq steal guest guest_nice
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var total = fields.Sum();
            return (total, total - fields[3] - fields[4]);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidOperationException)
        {
            return (0, 0);
        }
    }

    /// <summary>CPU time (user + system) of a process so far, in clock ticks (1/100 s).</summary>
    public static long ProcessTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after "(comm)": state is field 3, utime 14, stime 15.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
