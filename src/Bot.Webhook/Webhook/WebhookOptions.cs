using System.ComponentModel.DataAnnotations;

namespace Bot.Webhook.Webhook;

/// <summary>Section <c>Webhook</c>: how the inbox and the reply outbox are worked off.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhook";

    /// <summary>Whether this host works off the inbox and outbox; false makes an API/webhook-only replica.</summary>
    public bool ProcessInbox { get; set; } = true;

    /// <summary>An entry pending this long on a silent consumer (a dead replica) is taken over by another.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan ClaimAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle worker looks for work it was not woken for (entries another replica accepted).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Readiness turns unhealthy when the oldest unprocessed inbox entry is older than this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan UnhealthyAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Processing attempts of one inbox entry before it is moved to the dead-letter stream.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Entries the dead-letter stream keeps; the oldest go first, so a poison flood cannot fill Redis.</summary>
    [Range(1, 10_000_000)]
    public int DeadLetterMax { get; set; } = 10_000;

    /// <summary>Replies in flight at once (each waits for the sender's rate limiter first).</summary>
    [Range(1, 1000)]
    public int ReplyConcurrency { get; set; } = 32;

    /// <summary>Attempts of a reply WhatsApp provably did not accept (429, 131016, …) before it is recorded failed.</summary>
    [Range(1, 20)]
    public int ReplyAttempts { get; set; } = 5;
}
