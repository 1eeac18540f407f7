using System.Diagnostics.Metrics;

namespace Bot.Scheduler;

public sealed class DispatcherMetrics
{
    public const string MeterName = "Bot.Scheduler";

    private readonly Counter<long> sends;
    private readonly Counter<long> retries;
    private readonly Counter<long> duplicatesPrevented;
    private readonly Histogram<double> claimLatency;
    private readonly Histogram<double> fanOutDuration;

    public DispatcherMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        sends = meter.CreateCounter<long>("announcements.sends", description: "WhatsApp sends by outcome");
        retries = meter.CreateCounter<long>("announcements.send_retries", description: "Sends retried after a definite non-delivery");
        duplicatesPrevented = meter.CreateCounter<long>("announcements.duplicates_prevented",
            description: "Deliveries whose SET NX was refused because another run had already claimed them");
        claimLatency = meter.CreateHistogram<double>("announcements.claim_latency", "s", "Due time to claim");
        fanOutDuration = meter.CreateHistogram<double>("announcements.fanout_duration", "s", "One dispatcher's pass over an announcement");
    }

    public void Sent(string outcome) => sends.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    public void Retried() => retries.Add(1);
    public void DuplicatePrevented() => duplicatesPrevented.Add(1);
    public void Claimed(TimeSpan latency) => claimLatency.Record(Math.Max(0, latency.TotalSeconds));
    public void FanOutFinished(TimeSpan duration) => fanOutDuration.Record(duration.TotalSeconds);
}
