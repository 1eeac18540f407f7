using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Bot.Tools.WhatsAppStub.World;

/// <summary>
/// The state world mode needs and a mapping cannot hold: when each person last messaged each number (the
/// customer-service window), the portfolio's messaging limit, and the statuses still to be posted. Everything else
/// about a send (matching, status code, delay) stays in the JSON mappings.
/// </summary>
internal sealed partial class StubWorld : IDisposable
{
    private readonly WhatsAppStubOptions options;
    private readonly ReceivedCounts counts;
    private readonly ILogger logger;
    private readonly WebhookPoster poster;
    private readonly MessagingLimit? limit;
    private readonly ConcurrentDictionary<(string PhoneNumberId, string WaId), DateTimeOffset> lastInbound = new();

    public StubWorld(WhatsAppStubOptions options, ReceivedCounts counts, ILogger logger)
    {
        this.options = options;
        this.counts = counts;
        this.logger = logger;
        poster = new WebhookPoster(options, counts, logger);
        if (options.MessagingLimit is > 0 and var max) limit = new MessagingLimit(max, options.MessagingLimitWindow);
    }

    private DateTimeOffset Now => options.Time.GetUtcNow();

    /// <summary>
    /// A send the mappings accepted (200): decides what WhatsApp would do with it next and queues the statuses. A
    /// free-form message outside the window fails with 131047 and a business-initiated one over the messaging limit
    /// with 131049, both after the 200, as Meta reports them; everything else is sent, delivered and read.
    /// </summary>
    /// <param name="answeredAfter">The mapping's delay: statuses count from the answer, so none arrives before it.</param>
    public void Accepted(string phoneNumberId, string waId, string messageId, SendFields send, TimeSpan answeredAfter)
    {
        var now = Now;
        var answeredAt = now + answeredAfter;
        var inWindow = lastInbound.TryGetValue((phoneNumberId, waId), out var at) && now - at < options.CustomerServiceWindow;
        var template = send.Type == "template";
        var failAt = answeredAt + (options.SentAfter ?? TimeSpan.Zero);
        if (!template && !inWindow)
        {
            counts.AddOutsideWindow();
            Fail(StatusError.ReEngagement);
            return;
        }

        // Templates are business-initiated even inside the window (docs/whatsapp.md); free-form reaching here is inside it.
        if (template && limit is not null && !limit.TryReach(waId, now))
        {
            counts.AddOverMessagingLimit();
            Fail(StatusError.MessagingLimit);
            return;
        }

        Post("sent", options.SentAfter);
        Post("delivered", options.DeliveredAfter);
        Post("read", options.ReadAfter);

        void Post(string status, TimeSpan? after)
        {
            if (after is { } delay) poster.Enqueue(new StatusUpdate(phoneNumberId, answeredAt + delay, messageId, status, waId, send.CallbackData), answeredAt + delay);
        }

        void Fail(StatusError error) =>
            poster.Enqueue(new StatusUpdate(phoneNumberId, failAt, messageId, "failed", waId, send.CallbackData, error), failAt);
    }

    /// <summary>A person messages a number: opens (or restarts) their window and forwards the text to the webhook.</summary>
    public string Inbound(string phoneNumberId, string from, string waId, string? name, string text)
    {
        var now = Now;
        var id = "wamid." + Guid.NewGuid().ToString("N");
        lastInbound[(phoneNumberId, waId)] = now;
        poster.Enqueue(new InboundText(phoneNumberId, now, id, from, waId, name, text), now);
        LogInbound(Mask(waId), phoneNumberId);
        return id;
    }

    public void Dispose() => poster.Dispose();

    /// <summary>Phone numbers never reach the log whole: <c>1650*****234</c>.</summary>
    internal static string Mask(string number) =>
        number.Length <= 7 ? "***" : string.Concat(number.AsSpan(0, 4), new string('*', number.Length - 7), number.AsSpan(number.Length - 3));

    [LoggerMessage(LogLevel.Debug, "Inbound text from {WaId} to {PhoneNumberId}: window open, webhook queued")]
    private partial void LogInbound(string waId, string phoneNumberId);
}
