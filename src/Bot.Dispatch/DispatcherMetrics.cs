using System.Diagnostics.Metrics;

namespace Bot.Dispatch;

public sealed class DispatcherMetrics
{
    public const string MeterName = "Bot.Scheduler";

    private readonly Counter<long> sends;
    private readonly Counter<long> retries;
    private readonly Counter<long> duplicatesPrevented;
    private readonly Counter<long> slotsMissed;
    private readonly Histogram<double> claimLatency;
    private readonly Histogram<double> fanOutDuration;
    private readonly Meter meter;

    public DispatcherMetrics(IMeterFactory meterFactory)
    {
        meter = meterFactory.Create(MeterName);
        sends = meter.CreateCounter<long>("announcements.sends", description: "WhatsApp sends by outcome");
        retries = meter.CreateCounter<long>("announcements.send_retries", description: "Sends retried after a definite non-delivery");
        slotsMissed = meter.CreateCounter<long>("announcements.send_slots_missed",
            description: "Requests held back past their send slot (a Redis or process stall) and sent on a later one");
        duplicatesPrevented = meter.CreateCounter<long>("announcements.duplicates_prevented",
            description: "Deliveries whose SET NX was refused because another run had already claimed them");
        // Buckets in seconds: the exporters' defaults (0-10,000) are made for milliseconds and would put every
        // claim in the first bucket.
        claimLatency = meter.CreateHistogram<double>("announcements.claim_latency", "s", "Due time to claim",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        fanOutDuration = meter.CreateHistogram<double>("announcements.fanout_duration", "s", "One dispatcher's pass over an announcement",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] });
    }

    /// <summary>Reports how many sender locks this replica holds (the spread of the senders over the replicas).</summary>
    public void ObserveSenderLocks(Func<int> held) =>
        meter.CreateObservableGauge("announcements.sender_locks", held, description: "Sender locks this dispatcher holds");

    public void Sent(string outcome) => sends.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    public void Retried() => retries.Add(1);
    public void SlotMissed() => slotsMissed.Add(1);
    public void DuplicatePrevented() => duplicatesPrevented.Add(1);
    public void Claimed(TimeSpan latency) => claimLatency.Record(Math.Max(0, latency.TotalSeconds));
    public void FanOutFinished(TimeSpan duration) => fanOutDuration.Record(duration.TotalSeconds);
}
