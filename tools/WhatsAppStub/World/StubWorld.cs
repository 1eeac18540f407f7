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
    private readonly StubUserIds userIds;
    private readonly ConcurrentDictionary<(string PhoneNumberId, string WaId), DateTimeOffset> lastInbound = new();

    public StubWorld(WhatsAppStubOptions options, ReceivedCounts counts, ILogger logger)
    {
        this.options = options;
        this.counts = counts;
        this.logger = logger;
        poster = new WebhookPoster(options, counts, logger);
        userIds = new StubUserIds(options.WithheldNumbers);
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
        // A send to a BSUID (`recipient`) reaches the person whose number it stands for.
        waId = userIds.NumberOf(waId);
        var recipientId = userIds.IsWithheld(waId) ? null : waId;
        var userId = userIds.Of(waId);
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
            if (after is { } delay)
                poster.Enqueue(new StatusUpdate(phoneNumberId, answeredAt + delay, messageId, status, recipientId, send.CallbackData, RecipientUserId: userId), answeredAt + delay);
        }

        void Fail(StatusError error) =>
            poster.Enqueue(new StatusUpdate(phoneNumberId, failAt, messageId, "failed", recipientId, send.CallbackData, error, userId), failAt);
    }

    /// <summary>A person messages a number: opens (or restarts) their window and forwards the text to the webhook.</summary>
    public string Inbound(string phoneNumberId, string from, string waId, string? name, string text)
    {
        var now = Now;
        var id = "wamid." + Guid.NewGuid().ToString("N");
        lastInbound[(phoneNumberId, waId)] = now;
        poster.Enqueue(new InboundText(phoneNumberId, now, id, from, waId, name, text, userIds.Of(waId), userIds.IsWithheld(waId)), now);
        LogInbound(Mask(waId), phoneNumberId);
        return id;
    }

    /// <summary>
    /// A person moves from <paramref name="oldWaId"/> to <paramref name="newWaId"/>: WhatsApp posts <c>user_changed_number</c>
    /// to the number they wrote to; the new number has its own BSUID.
    /// </summary>
    public string ChangeNumber(string phoneNumberId, string oldWaId, string newWaId)
    {
        var now = Now;
        var id = "wamid." + Guid.NewGuid().ToString("N");
        poster.Enqueue(new NumberChange(phoneNumberId, now, id, oldWaId, newWaId), now);
        LogNumberChange(Mask(oldWaId), Mask(newWaId), phoneNumberId);
        return id;
    }

    /// <summary>The BSUID the stub's webhooks carry for <paramref name="waId"/>.</summary>
    public string UserIdOf(string waId) => userIds.Of(waId);

    public void Dispose() => poster.Dispose();

    /// <summary>Phone numbers never reach the log whole: <c>1650*****234</c>.</summary>
    internal static string Mask(string number) =>
        number.Length <= 7 ? "***" : string.Concat(number.AsSpan(0, 4), new string('*', number.Length - 7), number.AsSpan(number.Length - 3));

    [LoggerMessage(LogLevel.Debug, "{OldWaId} changed number to {NewWaId} (told to {PhoneNumberId}): webhook queued")]
    private partial void LogNumberChange(string oldWaId, string newWaId, string phoneNumberId);

    [LoggerMessage(LogLevel.Debug, "Inbound text from {WaId} to {PhoneNumberId}: window open, webhook queued")]
    private partial void LogInbound(string waId, string phoneNumberId);
}
