using System.Diagnostics.Metrics;

namespace Bot.Webhook.Observability;

/// <summary>
/// Meter <c>Bot.Webhook</c>: what WhatsApp reports through the webhook, rendered by Prometheus as
/// <c>webhook_events_total{type="message"|"status"|"error", status=…}</c>; the inbox and outbox
/// (<c>webhook_inbox_length</c>, <c>webhook_inbox_oldest_age_seconds</c>, <c>webhook_outbox_length</c>, refreshed
/// by the inbox worker every few seconds) and <c>webhook_replies_total{outcome="sent"|"failed"|"unknown"}</c>.
/// </summary>
public sealed class WebhookMetrics
{
    public const string MeterName = "Bot.Webhook";

    // Meta adds statuses now and then ('played'); an open label would let a signed payload mint series at will.
    private static readonly HashSet<string> KnownStatuses = ["sent", "delivered", "read", "failed"];

    private readonly Counter<long> events;
    private readonly Counter<long> replies;
    private long inboxLength;
    private long outboxLength;
    private double inboxOldestAge;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        events = meter.CreateCounter<long>("webhook.events",
            description: "Events in signed webhook POSTs: employee messages, delivery statuses (by status) and errors; redeliveries included");
        replies = meter.CreateCounter<long>("webhook.replies", description: "Bot replies by outcome: sent, failed, unknown");
        meter.CreateObservableGauge("webhook.inbox.length", () => Interlocked.Read(ref inboxLength),
            description: "Webhook POSTs stored but not yet processed");
        meter.CreateObservableGauge("webhook.inbox.oldest_age", () => Volatile.Read(ref inboxOldestAge), unit: "s",
            description: "Age of the oldest webhook POST not yet processed");
        meter.CreateObservableGauge("webhook.outbox.length", () => Interlocked.Read(ref outboxLength),
            description: "Bot replies waiting to be sent");
    }

    public void Reply(string outcome) => replies.Add(1, Tag("outcome", outcome));

    public void ObserveQueues((long Length, TimeSpan? OldestAge) inbox, (long Length, TimeSpan? OldestAge) outbox)
    {
        Interlocked.Exchange(ref inboxLength, inbox.Length);
        Volatile.Write(ref inboxOldestAge, inbox.OldestAge?.TotalSeconds ?? 0);
        Interlocked.Exchange(ref outboxLength, outbox.Length);
    }

    public void Messages(int count) => Add(count, Tag("type", "message"));

    public void Status(string? status) =>
        Add(1, Tag("type", "status"), Tag("status", status is not null && KnownStatuses.Contains(status) ? status : "other"));

    public void Errors(int count) => Add(count, Tag("type", "error"));

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    private void Add(int count, params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (count > 0) events.Add(count, tags);
    }
}
