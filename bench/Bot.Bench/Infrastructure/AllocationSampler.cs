using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Bot.Bench.Infrastructure;

/// <summary>
/// Where a dispatcher's allocations go, by type: the runtime's GCAllocationTick events (one per ~100 KB allocated, naming
/// the type whose allocation crossed it), summed. <c>BENCH_ALLOC_PROFILE=dir</c> turns it on in <c>--role dispatcher</c>;
/// the table goes to <c>dir/alloc-{pid}.txt</c> when the role stops. A sample, not an exact count: types are shares of the total.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> bytes = new();

    public static AllocationSampler? FromEnvironment() =>
        Environment.GetEnvironmentVariable("BENCH_ALLOC_PROFILE") is { Length: > 0 } ? new AllocationSampler() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null) return;
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }

    public void Write()
    {
        var dir = Environment.GetEnvironmentVariable("BENCH_ALLOC_PROFILE")!;
        Directory.CreateDirectory(dir);
        using var writer = File.CreateText(Path.Combine(dir, $"alloc-{Environment.ProcessId}.txt"));
        var total = bytes.Values.Sum();
        writer.WriteLine($"allocation profile: {total / 1e6:N1} MB sampled");
        foreach (var (type, sum) in bytes.OrderByDescending(kv => kv.Value).Take(40))
            writer.WriteLine($"  {100.0 * sum / total,5:N1} %  {type}");
    }
}
