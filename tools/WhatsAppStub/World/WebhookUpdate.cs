using System.Globalization;
using System.Text.Json;

namespace Bot.Tools.WhatsAppStub.World;

/// <summary>Something the stub tells the webhook about one of its numbers: a message status or an inbound message.</summary>
internal abstract record WebhookUpdate(string PhoneNumberId, DateTimeOffset At)
{
    /// <summary>How many times a POST carrying this update failed so far.</summary>
    public int FailedAttempts { get; init; }

    protected static string UnixSeconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}

/// <summary>A Graph error carried by a <c>failed</c> status.</summary>
internal sealed record StatusError(int Code, string Title, string Details)
{
    public static readonly StatusError ReEngagement = new(131047, "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.");

    public static readonly StatusError MessagingLimit = new(131049, "Messaging limit reached (stub)",
        "The business portfolio reached its messaging limit: unique recipients of business-initiated messages in the moving window.");
}

/// <summary>
/// <c>value.statuses[]</c>: <c>sent</c>, <c>delivered</c>, <c>read</c> or <c>failed</c> of a message the stub accepted,
/// naming the recipient by wa_id (<c>recipient_id</c>, left out when their number is withheld) and by BSUID
/// (<c>recipient_user_id</c>).
/// </summary>
internal sealed record StatusUpdate(
    string PhoneNumberId, DateTimeOffset At, string MessageId, string Status, string? RecipientId, string? CallbackData, StatusError? Error = null,
    string? RecipientUserId = null)
    : WebhookUpdate(PhoneNumberId, At)
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("id", MessageId);
        json.WriteString("status", Status);
        json.WriteString("timestamp", UnixSeconds(At));
        if (RecipientId is not null) json.WriteString("recipient_id", RecipientId);
        if (RecipientUserId is not null) json.WriteString("recipient_user_id", RecipientUserId);
        if (CallbackData is not null) json.WriteString("biz_opaque_callback_data", CallbackData);
        if (Error is not null)
        {
            json.WriteStartArray("errors");
            json.WriteStartObject();
            json.WriteNumber("code", Error.Code);
            json.WriteString("title", Error.Title);
            json.WriteString("message", Error.Title);
            json.WriteStartObject("error_data");
            json.WriteString("details", Error.Details);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
        }

        json.WriteEndObject();
    }
}

/// <summary>Something a person sent to one of the stub's numbers, posted alone: <c>value.contacts[]</c> (if any) and <c>value.messages[]</c>.</summary>
internal abstract record InboundUpdate(string PhoneNumberId, DateTimeOffset At) : WebhookUpdate(PhoneNumberId, At)
{
    public abstract void WriteValueFields(Utf8JsonWriter json);
}

/// <summary>
/// A text a person sent to one of the stub's numbers: <c>value.contacts[]</c> (with their BSUID, <c>user_id</c>) and
/// <c>value.messages[]</c>. A person whose number is withheld comes with neither <c>wa_id</c> nor <c>from</c>.
/// </summary>
internal sealed record InboundText(string PhoneNumberId, DateTimeOffset At, string MessageId, string From, string WaId, string? Name, string Text,
    string? UserId = null, bool Withheld = false)
    : InboundUpdate(PhoneNumberId, At)
{
    public override void WriteValueFields(Utf8JsonWriter json)
    {
        json.WriteStartArray("contacts");
        json.WriteStartObject();
        json.WriteStartObject("profile");
        json.WriteString("name", Name ?? "");
        json.WriteEndObject();
        if (!Withheld) json.WriteString("wa_id", WaId);
        if (UserId is not null) json.WriteString("user_id", UserId);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteStartArray("messages");
        json.WriteStartObject();
        if (!Withheld) json.WriteString("from", From);
        json.WriteString("id", MessageId);
        json.WriteString("timestamp", UnixSeconds(At));
        json.WriteString("type", "text");
        json.WriteStartObject("text");
        json.WriteString("body", Text);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
    }
}

/// <summary><c>user_changed_number</c>: a person moved from one number to another (system messages carry no contacts).</summary>
internal sealed record NumberChange(string PhoneNumberId, DateTimeOffset At, string MessageId, string OldWaId, string NewWaId)
    : InboundUpdate(PhoneNumberId, At)
{
    public override void WriteValueFields(Utf8JsonWriter json)
    {
        json.WriteStartArray("messages");
        json.WriteStartObject();
        json.WriteString("from", OldWaId);
        json.WriteString("id", MessageId);
        json.WriteString("timestamp", UnixSeconds(At));
        json.WriteString("type", "system");
        json.WriteStartObject("system");
        json.WriteString("body", $"User changed from {OldWaId} to {NewWaId}");
        json.WriteString("wa_id", NewWaId);
        json.WriteString("type", "user_changed_number");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
    }
}
