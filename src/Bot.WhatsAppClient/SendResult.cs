namespace Bot.WhatsAppClient;

/// <summary>What the dispatcher should do after one send attempt.</summary>
public enum SendOutcome
{
    /// <summary>Meta accepted the message (accepted is not delivered).</summary>
    Accepted,

    /// <summary>Meta did not accept the message; it is safe to send again later.</summary>
    Retryable,

    /// <summary>The message failed for good; do not retry.</summary>
    Permanent,

    /// <summary>The request may have been accepted; a retry could send a duplicate.</summary>
    Unknown,

    /// <summary>
    /// About the sender, not the recipient (expired token, restricted account, spam limit, a code not known to be about
    /// one recipient): nothing was accepted; stop dispatching from the number and alert.
    /// </summary>
    StopTheLine,

    /// <summary>
    /// The template was refused as it would be for every recipient (missing, paused, disabled, wrong parameters): nothing
    /// was accepted; the announcement pauses, the number goes on.
    /// </summary>
    TemplateRefused,
}

/// <summary>The result of one send attempt.</summary>
/// <param name="Outcome">The classified outcome.</param>
/// <param name="MessageId">The <c>wamid</c> when accepted.</param>
/// <param name="ErrorCode">The Graph error code, or the HTTP status when the body carried none.</param>
/// <param name="Error">A short, log-safe description of the failure.</param>
/// <param name="RetryAfter">How long Meta asked us to wait, when it said so.</param>
public sealed record SendResult(
    SendOutcome Outcome,
    string? MessageId = null,
    int? ErrorCode = null,
    string? Error = null,
    TimeSpan? RetryAfter = null)
{
    /// <summary>
    /// How long to wait before sending again after this (retryable) answer and attempt <paramref name="attempt"/>:
    /// Meta's <c>Retry-After</c> when it gave one; for the pair rate limit (131056) 4ⁿ × <paramref name="baseDelay"/>,
    /// as Meta asks; otherwise 2ⁿ⁻¹ × <paramref name="baseDelay"/> with ±20 % jitter; never more than <paramref name="maxDelay"/>.
    /// </summary>
    /// <param name="attempt">The attempt that got this answer, from 1.</param>
    /// <param name="baseDelay">The first back-off.</param>
    /// <param name="maxDelay">The longest wait.</param>
    public TimeSpan RetryDelay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay) => WhatsAppErrorPolicy.RetryDelay(this, attempt, baseDelay, maxDelay);

    /// <summary>
    /// The recipient's WhatsApp id from the answer's <c>contacts[].wa_id</c>: it may differ from the number sent to
    /// (Brazil, Mexico, Argentina), and inbound messages carry it.
    /// </summary>
    public string? WaId { get; init; }

    /// <summary>Creates an accepted result carrying Meta's message id.</summary>
    /// <param name="messageId">The <c>wamid</c> Meta returned.</param>
    public static SendResult Accepted(string messageId) => new(SendOutcome.Accepted, messageId);
}
