using System.Runtime.CompilerServices;

// Fault tests start processes, kill them and measure rates: one at a time, on a quiet machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Bot.FaultTests;

internal static class TestProcess
{
    /// <summary>
    /// WireMock runs in this process and timestamps each request when a pool thread gets to it. Enough threads
    /// from the start, so a burst of blocking work here cannot delay those timestamps and skew rate measurements.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount * 8), 64);
}
