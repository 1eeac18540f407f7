using System.Diagnostics.Metrics;

namespace Bot.Webhook.Observability;

/// <summary>
/// Meter <c>Bot.Webhook</c>: what WhatsApp reports through the webhook. Rendered by Prometheus as
/// <c>webhook_events_total{type="message"|"status"|"error", status=…}</c>.
/// </summary>
public sealed class WebhookMetrics
{
    public const string MeterName = "Bot.Webhook";

    // Meta adds statuses now and then ('played'); an open label would let a signed payload mint series at will.
    private static readonly HashSet<string> KnownStatuses = ["sent", "delivered", "read", "failed"];

    private readonly Counter<long> events;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        events = meter.CreateCounter<long>("webhook.events",
            description: "Events in signed webhook POSTs: employee messages, delivery statuses (by status) and errors; redeliveries included");
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
