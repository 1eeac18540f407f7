using System.ComponentModel.DataAnnotations;

namespace Bot.Dispatch;

public sealed class DispatcherOptions
{
    public const string SectionName = "Dispatcher";

    /// <summary>Host the dispatcher in this process (Bot.Scheduler: true; Bot.Webhook: false unless set).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Bot.Scheduler only: serve <c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c> on this port (Kestrel)
    /// for compose, orchestrators and Prometheus; 0 (the default) listens on nothing.
    /// </summary>
    [Range(0, 65535)]
    public int HealthPort { get; set; }

    /// <summary>
    /// Hold a sender's RedLock while dispatching its queue, so each sender is dispatched by one replica and the replicas
    /// share the senders (⌈senders / replicas⌉ each at most). Off, every replica dispatches every sender. Correctness does
    /// not depend on it (every send is gated by SET NX); tests switch it off to prove that.
    /// </summary>
    public bool UseLock { get; set; } = true;

    /// <summary>Longest wait between looks at the schedule; a "send now" wakes dispatchers at once via pub/sub.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// RedLock expiry; a lock is extended automatically while held, and another replica takes the sender after it. Also
    /// how long a replica's heartbeat counts it live.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan LockExpiry { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Lease on a claimed announcement, renewed by its owner every third of it on a timer (however slow sending is);
    /// once it lapses (the owner died or stalled) another replica resumes the announcement.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deliveries claimed (SET NX) and sent per batch; the lock is checked before every batch.</summary>
    [Range(1, 10_000, ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public int BatchSize { get; set; } = 200;

    [Range(1, 1024, ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public int MaxConcurrentSends { get; set; } = 32;

    /// <summary>
    /// Announcements one dispatcher fans out at once. They share each WhatsApp number's capacity in turn (see
    /// <see cref="SendRateLimiter"/>), so a small one due now starts at once instead of queuing behind big ones.
    /// </summary>
    [Range(1, 256, ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public int MaxParallelAnnouncements { get; set; } = 32;

    /// <summary>Attempts per delivery for errors that prove the message was not accepted (429, 130429, …).</summary>
    [Range(1, 20, ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public int MaxSendAttempts { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A claim left by another dispatcher for this long is taken to be abandoned (its process died mid-send) and
    /// becomes <c>unknown</c>. Must be longer than one delivery can take with all its retries.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan StaleClaimAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long dispatching pauses after a stop-the-line error (token expired, account restricted, spam limit).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan StopTheLinePause { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Answers that prove nothing (5xx, timeouts, lost connections) in a row from one sender before it pauses for an
    /// outage. Each ends its delivery <c>unknown</c>, so this bounds what an outage costs beside the requests in flight.
    /// </summary>
    [Range(1, 100, ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public int UnknownsBeforePause { get; set; } = 3;

    /// <summary>The first pause for an outage; it doubles with every probe request that finds WhatsApp still not answering.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan OutagePause { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest an outage pause grows to between two probes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan OutagePauseMax { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long delivery records are kept; WhatsApp sends status updates for up to 7 days. Only its relation to
    /// <see cref="MaxDispatchAge"/> is checked, so tests and demos can shorten both.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan DeliveryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// An announcement still not finished this long after it started (pauses that keep coming back) ends
    /// <c>expired</c>: its delivery records, which only live <see cref="DeliveryRetention"/> from their claim, must
    /// outlive every pass that could look at them, or a late pass would send again to employees already sent to.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan MaxDispatchAge { get; set; } = TimeSpan.FromDays(3);
}
