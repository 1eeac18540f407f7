using System.ComponentModel.DataAnnotations;

namespace Bot.Webhook.Events;

/// <summary>Settings of events out (section <c>Webhooks</c>); docs/configuration.md lists each.</summary>
public sealed class EventsOptions
{
    public const string Section = "Webhooks";

    /// <summary>Whether an endpoint may be plain http to a loopback address (tests, demo). Never another host.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>Whether an endpoint may resolve to a private, link-local or loopback address (an on-premises receiver).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long an event is retried from its first attempt before it is kept as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "30.00:00:00")]
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The wait after the first failed attempt; each further one doubles it (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.01", "01:00:00")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    [Range(typeof(TimeSpan), "00:00:00.01", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long one POST may take, connection included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>POSTs in flight to one endpoint from one host.</summary>
    [Range(1, 64)]
    public int MaxConcurrencyPerEndpoint { get; set; } = 4;

    /// <summary>How often a host looks for new events and for events due again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.01", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long after it is flagged an announcement's outbox is read: longer than WhatsApp sends statuses for
    /// (7 days) and than acknowledgements and reminders go on.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan WatchOutboxesFor { get; set; } = TimeSpan.FromDays(10);

    /// <summary>An outbox entry taken by a host that stops answering for this long is taken over by another (XAUTOCLAIM).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(1);
}
