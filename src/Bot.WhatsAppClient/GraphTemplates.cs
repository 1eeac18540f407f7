using System.Text.Json.Serialization;

namespace Bot.WhatsAppClient;

/// <summary>One page of <c>GET /{waba-id}/message_templates</c>: the templates, and where the next page is.</summary>
public sealed record TemplatePage(
    [property: JsonPropertyName("data")] IReadOnlyList<GraphTemplate?>? Data,
    [property: JsonPropertyName("paging")] GraphPaging? Paging);

/// <summary>Graph's paging: <c>next</c> is present while there are more pages; <c>cursors.after</c> names the next one.</summary>
public sealed record GraphPaging(
    [property: JsonPropertyName("cursors")] GraphCursors? Cursors,
    [property: JsonPropertyName("next")] string? Next);

/// <summary>The cursors of a page.</summary>
/// <param name="Before">The previous page's cursor.</param>
/// <param name="After">The next page's cursor.</param>
public sealed record GraphCursors(
    [property: JsonPropertyName("before")] string? Before,
    [property: JsonPropertyName("after")] string? After);

/// <summary>One template variant (a name in one language) as Graph lists it.</summary>
public sealed record GraphTemplate(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("language")] string? Language,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("category")] string? Category,
    [property: JsonPropertyName("quality_score")] GraphQualityScore? QualityScore,
    [property: JsonPropertyName("components")] IReadOnlyList<GraphTemplateComponent?>? Components);

/// <summary>A template's quality: GREEN, YELLOW, RED or UNKNOWN.</summary>
/// <param name="Score">The score.</param>
public sealed record GraphQualityScore([property: JsonPropertyName("score")] string? Score);

/// <summary>HEADER (<c>format</c> TEXT, IMAGE, DOCUMENT, VIDEO), BODY (<c>text</c> with {{1}}…), FOOTER or BUTTONS.</summary>
public sealed record GraphTemplateComponent(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("format")] string? Format,
    [property: JsonPropertyName("text")] string? Text,
    [property: JsonPropertyName("buttons")] IReadOnlyList<GraphTemplateButton?>? Buttons);

/// <summary>A template button: QUICK_REPLY, URL, PHONE_NUMBER…</summary>
/// <param name="Type">The button type.</param>
/// <param name="Text">What it shows.</param>
public sealed record GraphTemplateButton(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("text")] string? Text);

/// <summary>The answer to <c>POST /{phone-number-id}/media</c>.</summary>
public sealed record MediaUploadResponse([property: JsonPropertyName("id")] string? Id);

/// <summary>Graph's template error codes the send path acts on (WHATSAPP.md, "Template management").</summary>
public static class TemplateErrors
{
    /// <summary>Wrong number of parameters.</summary>
    public const int ParameterCount = 132000;

    /// <summary>No template of that name in that language.</summary>
    public const int UnknownTemplate = 132001;

    /// <summary>The template is paused (low quality): the announcement pauses, nobody fails.</summary>
    public const int Paused = 132015;

    /// <summary>The template is disabled: the announcement pauses, nobody fails.</summary>
    public const int Disabled = 132016;

    /// <summary>
    /// True for answers that are about the template, not the recipient: the send path pauses the announcement instead
    /// of recording the employee failed.
    /// </summary>
    public static bool PausesAnnouncement(int? code) => code is Paused or Disabled;
}
