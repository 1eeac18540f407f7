using System.Text.Json;

namespace Bot.Webhook.Webhook;

/// <summary>
/// A signed POST from WhatsApp: <c>entry[].changes[].value</c> holding messages and/or statuses (see docs/whatsapp.md).
/// Every member is nullable and lists may hold nulls: a signed body is still input, and a missing field is skipped,
/// never a 500. Names map to Meta's snake_case through <see cref="Json"/>.
/// </summary>
public sealed record WebhookPayload(string? Object, IReadOnlyList<WebhookEntry?>? Entry)
{
    /// <summary>
    /// snake_case like Meta; deeper than any Meta payload (about 8 levels) and far below what could exhaust the
    /// stack, so an absurdly nested body is a <see cref="JsonException"/>.
    /// </summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        MaxDepth = 64,
    };

    /// <summary>Parses a body; throws <see cref="JsonException"/> when it is not JSON of this shape.</summary>
    public static WebhookPayload Parse(ReadOnlySpan<byte> body) =>
        JsonSerializer.Deserialize<WebhookPayload>(body, Json) ?? new WebhookPayload(null, null);

    /// <summary>The <c>value</c> of every change about messages (the only field this app subscribes to).</summary>
    public IEnumerable<WebhookValue> Values =>
        (Entry ?? []).OfType<WebhookEntry>()
            .SelectMany(e => (e.Changes ?? []).OfType<WebhookChange>())
            .Where(c => c.Field == "messages")
            .Select(c => c.Value).OfType<WebhookValue>();

    public IEnumerable<WebhookMessage> Messages => Values.SelectMany(v => (v.Messages ?? []).OfType<WebhookMessage>());

    public IEnumerable<WebhookStatus> Statuses => Values.SelectMany(v => (v.Statuses ?? []).OfType<WebhookStatus>());

    public IEnumerable<WebhookError> Errors => Values.SelectMany(v => (v.Errors ?? []).OfType<WebhookError>());
}

public sealed record WebhookEntry(string? Id, IReadOnlyList<WebhookChange?>? Changes);

public sealed record WebhookChange(string? Field, WebhookValue? Value);

public sealed record WebhookValue(
    string? MessagingProduct,
    WebhookMetadata? Metadata,
    IReadOnlyList<WebhookContact?>? Contacts,
    IReadOnlyList<WebhookMessage?>? Messages,
    IReadOnlyList<WebhookStatus?>? Statuses,
    IReadOnlyList<WebhookError?>? Errors);

/// <summary>Which of our business numbers the change is about.</summary>
public sealed record WebhookMetadata(string? DisplayPhoneNumber, string? PhoneNumberId);

/// <summary>Who wrote: <c>wa_id</c> (absent when WhatsApp withholds the number of a user with a username) and
/// <c>user_id</c>, their business-scoped user id (BSUID) in our portfolio.</summary>
public sealed record WebhookContact(WebhookProfile? Profile, string? WaId, string? UserId = null);

public sealed record WebhookProfile(string? Name, string? Username = null);

/// <summary>A message an employee sent; <c>from</c> is their WhatsApp id (the number without '+'), absent when the
/// number is withheld; <c>from_user_id</c> their BSUID where Meta puts it on the message itself.</summary>
public sealed record WebhookMessage(
    string? From,
    string? Id,
    string? Timestamp,
    string? Type,
    WebhookText? Text,
    WebhookInteractive? Interactive,
    WebhookButton? Button,
    WebhookSystem? System = null,
    string? FromUserId = null);

/// <summary>
/// A <c>system</c> message: <c>user_changed_number</c> (<c>wa_id</c> the new number; older payloads:
/// <c>customer_changed_number</c> with <c>new_wa_id</c>) or <c>user_changed_user_id</c> (<c>user_id</c> the new BSUID).
/// </summary>
public sealed record WebhookSystem(string? Body, string? Type, string? WaId, string? NewWaId, string? UserId);

public sealed record WebhookText(string? Body);

/// <summary>A tapped interactive element: a reply button or a list row.</summary>
public sealed record WebhookInteractive(string? Type, WebhookReply? ButtonReply, WebhookReply? ListReply);

public sealed record WebhookReply(string? Id, string? Title, string? Description);

/// <summary>A tapped template quick-reply button: the payload set at send time and the text the user saw.</summary>
public sealed record WebhookButton(string? Payload, string? Text);

/// <summary>A status of a message we sent (sent, delivered, read, failed; played for voice). May be duplicated,
/// reordered or skipped; timestamps are unix seconds as strings.</summary>
public sealed record WebhookStatus(
    string? Id,
    string? Status,
    string? Timestamp,
    string? RecipientId,
    string? BizOpaqueCallbackData,
    IReadOnlyList<WebhookError?>? Errors,
    string? RecipientUserId = null);

public sealed record WebhookError(int? Code, string? Title, string? Message, WebhookErrorData? ErrorData);

public sealed record WebhookErrorData(string? Details);
