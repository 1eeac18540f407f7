using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

/// <summary>
/// Body of <c>POST /{version}/{phone-number-id}/messages</c> without the recipient (<c>to</c> or <c>recipient</c>) and
/// <c>biz_opaque_callback_data</c>, which <see cref="MessageBody.For"/> adds per send. Null properties are omitted.
/// </summary>
public sealed class SendMessageRequest
{
    /// <summary>Always <c>whatsapp</c>.</summary>
    [JsonPropertyName("messaging_product")]
    public string MessagingProduct { get; init; } = "whatsapp";

    /// <summary>Always <c>individual</c>.</summary>
    [JsonPropertyName("recipient_type")]
    public string RecipientType { get; init; } = "individual";

    /// <summary><c>text</c>, <c>template</c> or <c>interactive</c>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>The text content when <see cref="Type"/> is <c>text</c>.</summary>
    [JsonPropertyName("text")]
    public TextContent? Text { get; init; }

    /// <summary>The template content when <see cref="Type"/> is <c>template</c>.</summary>
    [JsonPropertyName("template")]
    public TemplateContent? Template { get; init; }

    /// <summary>The interactive content when <see cref="Type"/> is <c>interactive</c>.</summary>
    [JsonPropertyName("interactive")]
    public InteractiveContent? Interactive { get; init; }

    /// <summary>The image when <see cref="Type"/> is <c>image</c>.</summary>
    [JsonPropertyName("image")]
    public MediaContent? Image { get; init; }

    /// <summary>The document when <see cref="Type"/> is <c>document</c>.</summary>
    [JsonPropertyName("document")]
    public MediaContent? Document { get; init; }

    /// <summary>The video when <see cref="Type"/> is <c>video</c>.</summary>
    [JsonPropertyName("video")]
    public MediaContent? Video { get; init; }
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
    /// <summary>Component type, e.g. <c>body</c> or <c>button</c>.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    /// <summary>For a <c>button</c> component: <c>quick_reply</c> or <c>url</c>.</summary>
    [JsonPropertyName("sub_type")]
    public string? SubType { get; init; }

    /// <summary>For a <c>button</c> component: the button's position in the template, as a string ("0").</summary>
    [JsonPropertyName("index")]
    public string? Index { get; init; }

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

    /// <summary>A quick-reply button's payload (type <c>payload</c>).</summary>
    [JsonPropertyName("payload")]
    public string? Payload { get; init; }

    /// <summary>A header's image (type <c>image</c>).</summary>
    [JsonPropertyName("image")]
    public MediaContent? Image { get; init; }

    /// <summary>A header's document (type <c>document</c>).</summary>
    [JsonPropertyName("document")]
    public MediaContent? Document { get; init; }

    /// <summary>A header's video (type <c>video</c>).</summary>
    [JsonPropertyName("video")]
    public MediaContent? Video { get; init; }
}

/// <summary>A file by uploaded id or by link, with a caption (messages) and a file name (documents).</summary>
public sealed class MediaContent
{
    /// <summary>The media id.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>Or an https URL WhatsApp fetches.</summary>
    [JsonPropertyName("link")]
    public string? Link { get; init; }

    /// <summary>The text under it (not in a template header).</summary>
    [JsonPropertyName("caption")]
    public string? Caption { get; init; }

    /// <summary>A document's file name.</summary>
    [JsonPropertyName("filename")]
    public string? Filename { get; init; }
}

/// <summary>Interactive message content (quick-reply buttons).</summary>
public sealed class InteractiveContent
{
    /// <summary>Always <c>button</c> here.</summary>
    [JsonPropertyName("type")]
    public string Type { get; init; } = "button";

    /// <summary>The message text.</summary>
    [JsonPropertyName("body")]
    public required InteractiveBody Body { get; init; }

    /// <summary>The buttons.</summary>
    [JsonPropertyName("action")]
    public required InteractiveAction Action { get; init; }
}

/// <summary>Interactive message text.</summary>
public sealed class InteractiveBody
{
    /// <summary>At most 1024 characters.</summary>
    [JsonPropertyName("text")]
    public required string Text { get; init; }
}

/// <summary>The buttons of an interactive message.</summary>
public sealed class InteractiveAction
{
    /// <summary>One to three reply buttons.</summary>
    [JsonPropertyName("buttons")]
    public required IReadOnlyList<InteractiveButton> Buttons { get; init; }
}

/// <summary>One reply button.</summary>
public sealed class InteractiveButton
{
    /// <summary>Always <c>reply</c>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; init; } = "reply";

    /// <summary>Its id and title.</summary>
    [JsonPropertyName("reply")]
    public required InteractiveReply Reply { get; init; }
}

/// <summary>A reply button's id (echoed back when tapped) and title (shown).</summary>
public sealed class InteractiveReply
{
    /// <summary>Echoed back in <c>interactive.button_reply.id</c>.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>At most 20 characters.</summary>
    [JsonPropertyName("title")]
    public required string Title { get; init; }
}
