using Bot.Core.Templates;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Templates;

/// <summary>Reads a sender's whole template catalog from Graph (every page) and stores it in place of the last one.</summary>
public sealed partial class TemplateSync(IWhatsAppApi api, IOptionsMonitor<WhatsAppOptions> whatsApp, TemplateCatalog catalog, ILogger<TemplateSync> logger)
{
    public const string Fields = "id,name,language,status,category,components,quality_score";
    public const int PageSize = 100;

    // A runaway paging loop (a proxy echoing the same cursor) stops here: 1,000 pages is 100,000 variants.
    private const int MaxPages = 1000;

    /// <returns>How many variants the catalog holds now; null when the sender has no WABA id.</returns>
    /// <exception cref="TemplateSyncException">Graph did not answer a page; the stored catalog is left as it was.</exception>
    public async Task<int?> SyncAsync(Sender sender, CancellationToken cancellationToken)
    {
        if (sender.WabaId is not { } wabaId) return null;
        var templates = new List<TemplateInfo>();
        string? after = null;
        for (var page = 0; page < MaxPages; page++)
        {
            using var response = await api.ListTemplatesAsync(whatsApp.CurrentValue.ApiVersion, wabaId, Fields, PageSize, after, sender.Id, cancellationToken);
            if (!response.IsSuccessStatusCode || response.Content is not { } content)
                throw new TemplateSyncException($"GET /{wabaId}/message_templates answered {(int?)response.StatusCode}; the catalog of sender '{sender.Id}' is unchanged");
            templates.AddRange((content.Data ?? []).Select(TemplateMapping.From).OfType<TemplateInfo>());
            // Graph leaves `next` out on the last page; its cursor names the page after this one.
            after = content.Paging is { Next: { Length: > 0 } } ? content.Paging.Cursors?.After : null;
            if (after is null) break;
        }

        await catalog.ReplaceAsync(sender.Id, templates);
        LogSynced(sender.Id, templates.Count);
        return templates.Count;
    }

    [LoggerMessage(LogLevel.Information, "Template catalog of sender {Sender} synced: {Count} variants")]
    private partial void LogSynced(string sender, int count);
}

/// <summary>A catalog page could not be read.</summary>
public sealed class TemplateSyncException(string message) : Exception(message);

/// <summary>Graph's template as the catalog keeps it.</summary>
public static partial class TemplateMapping
{
    /// <returns>Null for an entry without a name or language (nothing could send it).</returns>
    public static TemplateInfo? From(GraphTemplate? t)
    {
        if (t is not { Name: { Length: > 0 } name, Language: { Length: > 0 } language }) return null;
        var components = (t.Components ?? []).OfType<GraphTemplateComponent>().ToList();
        var header = components.FirstOrDefault(c => Is(c.Type, "HEADER"))?.Format?.ToLowerInvariant() switch
        {
            null => TemplateHeader.None,
            "text" => TemplateHeader.Text,
            "image" => TemplateHeader.Image,
            "document" => TemplateHeader.Document,
            "video" => TemplateHeader.Video,
            _ => TemplateHeader.None,
        };
        var body = components.FirstOrDefault(c => Is(c.Type, "BODY"))?.Text;
        var quickReply = components.Where(c => Is(c.Type, "BUTTONS"))
            .SelectMany(c => (c.Buttons ?? []).OfType<GraphTemplateButton>()).Any(b => Is(b.Type, "QUICK_REPLY"));
        return new TemplateInfo(t.Id ?? "", name, language, (t.Status ?? "UNKNOWN").ToUpperInvariant(), (t.Category ?? "UNKNOWN").ToUpperInvariant(),
            (t.QualityScore?.Score ?? "UNKNOWN").ToUpperInvariant(), ParameterCount(body), header, quickReply, body);
    }

    /// <summary>Distinct placeholders {{1}}…{{n}} (or named ones) in the body: a send fills each once.</summary>
    public static int ParameterCount(string? body) =>
        body is null ? 0 : Placeholder().Matches(body).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).Count();

    private static bool Is(string? value, string expected) => string.Equals(value, expected, StringComparison.OrdinalIgnoreCase);

    [System.Text.RegularExpressions.GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")]
    private static partial System.Text.RegularExpressions.Regex Placeholder();
}
