using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

// Inbound webhook shapes. Everything is nullable and unknown fields are ignored, because Meta adds
// fields over time and a webhook we fail to parse is retried by Meta for up to 7 days.

/// <summary>Body of a webhook POST from Meta.</summary>
public sealed class WhatsAppWebhookPayload
{
    /// <summary><c>whatsapp_business_account</c>.</summary>
    [JsonPropertyName("object")]
    public string? Object { get; init; }

    /// <summary>One entry per business account.</summary>
    [JsonPropertyName("entry")]
    public IReadOnlyList<WebhookEntry>? Entry { get; init; }
}

/// <summary>Changes for one business account.</summary>
public sealed class WebhookEntry
{
    /// <summary>The business account id.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>The changes.</summary>
    [JsonPropertyName("changes")]
    public IReadOnlyList<WebhookChange>? Changes { get; init; }
}

/// <summary>One change.</summary>
public sealed class WebhookChange
{
    /// <summary>The subscribed field, <c>messages</c> for messages and statuses.</summary>
    [JsonPropertyName("field")]
    public string? Field { get; init; }

    /// <summary>The change content.</summary>
    [JsonPropertyName("value")]
    public WebhookValue? Value { get; init; }
}

/// <summary>Inbound messages, status updates and errors for one business number.</summary>
public sealed class WebhookValue
{
    /// <summary>Always <c>whatsapp</c>.</summary>
    [JsonPropertyName("messaging_product")]
    public string? MessagingProduct { get; init; }

    /// <summary>The business number the change belongs to.</summary>
    [JsonPropertyName("metadata")]
    public WebhookMetadata? Metadata { get; init; }

    /// <summary>Senders of <see cref="Messages"/>.</summary>
    [JsonPropertyName("contacts")]
    public IReadOnlyList<WebhookContact>? Contacts { get; init; }

    /// <summary>Inbound messages.</summary>
    [JsonPropertyName("messages")]
    public IReadOnlyList<WebhookMessage>? Messages { get; init; }

    /// <summary>Status updates of messages we sent.</summary>
    [JsonPropertyName("statuses")]
    public IReadOnlyList<WebhookStatus>? Statuses { get; init; }

    /// <summary>Errors not tied to one message.</summary>
    [JsonPropertyName("errors")]
    public IReadOnlyList<WebhookError>? Errors { get; init; }
}

/// <summary>The business number a change belongs to.</summary>
public sealed class WebhookMetadata
{
    /// <summary>The number as displayed.</summary>
    [JsonPropertyName("display_phone_number")]
    public string? DisplayPhoneNumber { get; init; }

    /// <summary>The phone number id.</summary>
    [JsonPropertyName("phone_number_id")]
    public string? PhoneNumberId { get; init; }
}

/// <summary>A user who sent a message.</summary>
public sealed class WebhookContact
{
    /// <summary>The user's profile.</summary>
    [JsonPropertyName("profile")]
    public WebhookProfile? Profile { get; init; }

    /// <summary>The user's WhatsApp id.</summary>
    [JsonPropertyName("wa_id")]
    public string? WaId { get; init; }
}

/// <summary>A user's profile.</summary>
public sealed class WebhookProfile
{
    /// <summary>The user's display name.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; init; }
}

/// <summary>An inbound message.</summary>
public sealed class WebhookMessage
{
    /// <summary>The sender's WhatsApp id (no '+').</summary>
    [JsonPropertyName("from")]
    public string? From { get; init; }

    /// <summary>The message's <c>wamid</c>; use it to deduplicate redeliveries.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>Unix seconds, as a string.</summary>
    [JsonPropertyName("timestamp")]
    public string? Timestamp { get; init; }

    /// <summary><c>text</c>, <c>interactive</c>, <c>button</c> or another type we ignore.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    /// <summary>Content of a <c>text</c> message.</summary>
    [JsonPropertyName("text")]
    public WebhookText? Text { get; init; }

    /// <summary>Content of an <c>interactive</c> message.</summary>
    [JsonPropertyName("interactive")]
    public WebhookInteractive? Interactive { get; init; }

    /// <summary>Content of a template quick-reply <c>button</c> message.</summary>
    [JsonPropertyName("button")]
    public WebhookButton? Button { get; init; }
}

/// <summary>Text message content.</summary>
public sealed class WebhookText
{
    /// <summary>The text.</summary>
    [JsonPropertyName("body")]
    public string? Body { get; init; }
}

/// <summary>Interactive reply content.</summary>
public sealed class WebhookInteractive
{
    /// <summary><c>button_reply</c> or <c>list_reply</c>.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    /// <summary>The reply button that was tapped.</summary>
    [JsonPropertyName("button_reply")]
    public WebhookButtonReply? ButtonReply { get; init; }

    /// <summary>The list row that was chosen.</summary>
    [JsonPropertyName("list_reply")]
    public WebhookListReply? ListReply { get; init; }
}

/// <summary>A tapped reply button.</summary>
public sealed class WebhookButtonReply
{
    /// <summary>The button id we set.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>The button title.</summary>
    [JsonPropertyName("title")]
    public string? Title { get; init; }
}

/// <summary>A chosen list row.</summary>
public sealed class WebhookListReply
{
    /// <summary>The row id we set.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>The row title.</summary>
    [JsonPropertyName("title")]
    public string? Title { get; init; }

    /// <summary>The row description.</summary>
    [JsonPropertyName("description")]
    public string? Description { get; init; }
}

/// <summary>A tapped template quick-reply button.</summary>
public sealed class WebhookButton
{
    /// <summary>The payload defined on the button.</summary>
    [JsonPropertyName("payload")]
    public string? Payload { get; init; }

    /// <summary>The button text.</summary>
    [JsonPropertyName("text")]
    public string? Text { get; init; }
}

/// <summary>A status update of a message we sent. Updates may be duplicated, reordered or skipped.</summary>
public sealed class WebhookStatus
{
    /// <summary>The <c>wamid</c> of the sent message.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary><c>sent</c>, <c>delivered</c>, <c>read</c>, <c>failed</c> (or <c>played</c>).</summary>
    [JsonPropertyName("status")]
    public string? Status { get; init; }

    /// <summary>Unix seconds, as a string.</summary>
    [JsonPropertyName("timestamp")]
    public string? Timestamp { get; init; }

    /// <summary>The recipient's WhatsApp id.</summary>
    [JsonPropertyName("recipient_id")]
    public string? RecipientId { get; init; }

    /// <summary>The callback data we set when sending.</summary>
    [JsonPropertyName("biz_opaque_callback_data")]
    public string? BizOpaqueCallbackData { get; init; }

    /// <summary>Why the message failed, for <c>failed</c>.</summary>
    [JsonPropertyName("errors")]
    public IReadOnlyList<WebhookError>? Errors { get; init; }
}

/// <summary>An error reported in a webhook.</summary>
public sealed class WebhookError
{
    /// <summary>The error code (see the dispatcher's error table).</summary>
    [JsonPropertyName("code")]
    public int? Code { get; init; }

    /// <summary>Short title.</summary>
    [JsonPropertyName("title")]
    public string? Title { get; init; }

    /// <summary>Message.</summary>
    [JsonPropertyName("message")]
    public string? Message { get; init; }

    /// <summary>Additional details.</summary>
    [JsonPropertyName("error_data")]
    public WebhookErrorData? ErrorData { get; init; }
}

/// <summary>Additional details of a webhook error.</summary>
public sealed class WebhookErrorData
{
    /// <summary>Detailed description.</summary>
    [JsonPropertyName("details")]
    public string? Details { get; init; }
}
