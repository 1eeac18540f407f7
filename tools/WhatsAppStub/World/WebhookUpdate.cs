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

/// <summary><c>value.statuses[]</c>: <c>sent</c>, <c>delivered</c>, <c>read</c> or <c>failed</c> of a message the stub accepted.</summary>
internal sealed record StatusUpdate(
    string PhoneNumberId, DateTimeOffset At, string MessageId, string Status, string RecipientId, string? CallbackData, StatusError? Error = null)
    : WebhookUpdate(PhoneNumberId, At)
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("id", MessageId);
        json.WriteString("status", Status);
        json.WriteString("timestamp", UnixSeconds(At));
        json.WriteString("recipient_id", RecipientId);
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

/// <summary>A text a person sent to one of the stub's numbers: <c>value.contacts[]</c> and <c>value.messages[]</c>.</summary>
internal sealed record InboundText(string PhoneNumberId, DateTimeOffset At, string MessageId, string From, string WaId, string? Name, string Text)
    : WebhookUpdate(PhoneNumberId, At)
{
    public void WriteValueFields(Utf8JsonWriter json)
    {
        json.WriteStartArray("contacts");
        json.WriteStartObject();
        json.WriteStartObject("profile");
        json.WriteString("name", Name ?? "");
        json.WriteEndObject();
        json.WriteString("wa_id", WaId);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteStartArray("messages");
        json.WriteStartObject();
        json.WriteString("from", From);
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
