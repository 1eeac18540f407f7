using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

/// <summary>Successful answer to a send request.</summary>
public sealed class SendMessageResponse
{
    /// <summary>Always <c>whatsapp</c>.</summary>
    [JsonPropertyName("messaging_product")]
    public string? MessagingProduct { get; init; }

    /// <summary>The recipients as Meta resolved them.</summary>
    [JsonPropertyName("contacts")]
    public IReadOnlyList<SentContact>? Contacts { get; init; }

    /// <summary>The created messages; the first one's id is the <c>wamid</c>.</summary>
    [JsonPropertyName("messages")]
    public IReadOnlyList<SentMessage>? Messages { get; init; }
}

/// <summary>A recipient as Meta resolved it.</summary>
public sealed class SentContact
{
    /// <summary>The <c>to</c> value we sent.</summary>
    [JsonPropertyName("input")]
    public string? Input { get; init; }

    /// <summary>The user's WhatsApp id.</summary>
    [JsonPropertyName("wa_id")]
    public string? WaId { get; init; }
}

/// <summary>A message Meta created.</summary>
public sealed class SentMessage
{
    /// <summary>The <c>wamid</c>.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary><c>accepted</c> or <c>held_for_quality_assessment</c>; accepted is not delivered.</summary>
    [JsonPropertyName("message_status")]
    public string? MessageStatus { get; init; }
}
