using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

/// <summary>Body of <c>POST /{version}/{phone-number-id}/messages</c>. Null properties are omitted.</summary>
public sealed class SendMessageRequest
{
    /// <summary>Always <c>whatsapp</c>.</summary>
    [JsonPropertyName("messaging_product")]
    public string MessagingProduct { get; init; } = "whatsapp";

    /// <summary>Always <c>individual</c>.</summary>
    [JsonPropertyName("recipient_type")]
    public string RecipientType { get; init; } = "individual";

    /// <summary>Recipient in E.164 with a leading '+' (without it Meta prepends the sender's country code).</summary>
    [JsonPropertyName("to")]
    public required string To { get; init; }

    /// <summary><c>text</c> or <c>template</c>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>The text content when <see cref="Type"/> is <c>text</c>.</summary>
    [JsonPropertyName("text")]
    public TextContent? Text { get; init; }

    /// <summary>The template content when <see cref="Type"/> is <c>template</c>.</summary>
    [JsonPropertyName("template")]
    public TemplateContent? Template { get; init; }

    /// <summary>Opaque data echoed back in status webhooks.</summary>
    [JsonPropertyName("biz_opaque_callback_data")]
    public string? BizOpaqueCallbackData { get; init; }
}

/// <summary>Text message content.</summary>
public sealed class TextContent
{
    /// <summary>Whether Meta renders a link preview; we always send <c>false</c>.</summary>
    [JsonPropertyName("preview_url")]
    public bool PreviewUrl { get; init; }

    /// <summary>Message text, at most 4096 characters.</summary>
    [JsonPropertyName("body")]
    public required string Body { get; init; }
}

/// <summary>Template message content.</summary>
public sealed class TemplateContent
{
    /// <summary>Template name.</summary>
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>Template language.</summary>
    [JsonPropertyName("language")]
    public required TemplateLanguage Language { get; init; }

    /// <summary>Parameter components; omitted when the template takes none.</summary>
    [JsonPropertyName("components")]
    public IReadOnlyList<TemplateComponent>? Components { get; init; }
}

/// <summary>Template language.</summary>
public sealed class TemplateLanguage
{
    /// <summary>Language code, e.g. <c>en_US</c>.</summary>
    [JsonPropertyName("code")]
    public required string Code { get; init; }
}

/// <summary>One template component with its parameters.</summary>
public sealed class TemplateComponent
{
    /// <summary>Component type, e.g. <c>body</c>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>Positional parameters.</summary>
    [JsonPropertyName("parameters")]
    public required IReadOnlyList<TemplateParameter> Parameters { get; init; }
}

/// <summary>One template parameter.</summary>
public sealed class TemplateParameter
{
    /// <summary>Parameter type, e.g. <c>text</c>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>Parameter text.</summary>
    [JsonPropertyName("text")]
    public string? Text { get; init; }
}
