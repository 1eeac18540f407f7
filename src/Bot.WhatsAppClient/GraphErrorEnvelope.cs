using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

/// <summary>Body of a Graph API error response.</summary>
public sealed class GraphErrorEnvelope
{
    /// <summary>The error.</summary>
    [JsonPropertyName("error")]
    public GraphError? Error { get; init; }
}

/// <summary>A Graph API error.</summary>
public sealed class GraphError
{
    /// <summary>Human-readable message, e.g. <c>(#131026) Message undeliverable</c>.</summary>
    [JsonPropertyName("message")]
    public string? Message { get; init; }

    /// <summary>Error type, e.g. <c>OAuthException</c>.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    /// <summary>The error code that decides what the dispatcher does.</summary>
    [JsonPropertyName("code")]
    public int? Code { get; init; }

    /// <summary>Error subcode.</summary>
    [JsonPropertyName("error_subcode")]
    public int? ErrorSubcode { get; init; }

    /// <summary>Additional details.</summary>
    [JsonPropertyName("error_data")]
    public GraphErrorData? ErrorData { get; init; }

    /// <summary>Trace id for Meta support.</summary>
    [JsonPropertyName("fbtrace_id")]
    public string? FbTraceId { get; init; }
}

/// <summary>Additional details of a Graph API error.</summary>
public sealed class GraphErrorData
{
    /// <summary>Always <c>whatsapp</c>.</summary>
    [JsonPropertyName("messaging_product")]
    public string? MessagingProduct { get; init; }

    /// <summary>Detailed description.</summary>
    [JsonPropertyName("details")]
    public string? Details { get; init; }
}
