using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Bot.Tools.WhatsAppStub.Templates;

/// <summary>
/// The template catalogs of the stub's WhatsApp Business Accounts, kept as Graph lists them (<c>{id, name, language,
/// status, category, quality_score, components}</c>): served in pages, checked on every template send (132001 unknown
/// name or language, 132000 parameter count, 132015 paused, 132016 disabled), and changed by
/// <c>POST /stub/templates</c>. A WABA without templates checks nothing, so tests and the bench that never set one
/// send any template as before.
/// </summary>
public sealed partial class StubCatalog
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, List<JsonObject>> byWaba = new(StringComparer.Ordinal);
    private long nextId = 1_000_000;

    /// <summary>Adds (or replaces, by name and language) a template of <paramref name="wabaId"/>; its id is given when absent.</summary>
    public void Add(string wabaId, string name, string language, string body, string status = "APPROVED", string category = "UTILITY",
        string? headerFormat = null, bool quickReply = false)
    {
        var components = new JsonArray();
        if (headerFormat is not null) components.Add(new JsonObject { ["type"] = "HEADER", ["format"] = headerFormat });
        components.Add(new JsonObject { ["type"] = "BODY", ["text"] = body });
        if (quickReply)
            components.Add(new JsonObject { ["type"] = "BUTTONS", ["buttons"] = new JsonArray(new JsonObject { ["type"] = "QUICK_REPLY", ["text"] = "Got it" }) });
        Add(wabaId, new JsonObject
        {
            ["name"] = name, ["language"] = language, ["status"] = status, ["category"] = category,
            ["quality_score"] = new JsonObject { ["score"] = "GREEN" }, ["components"] = components,
        });
    }

    /// <summary>Adds a template given in Graph's shape.</summary>
    public void Add(string wabaId, JsonObject template)
    {
        lock (gate)
        {
            var list = byWaba.TryGetValue(wabaId, out var l) ? l : byWaba[wabaId] = [];
            template["id"] ??= (nextId++).ToString(CultureInfo.InvariantCulture);
            list.RemoveAll(t => Same(t, (string?)template["name"], (string?)template["language"]));
            list.Add(template);
        }
    }

    /// <summary>Loads <c>{"&lt;wabaId&gt;": [templates in Graph's shape]}</c>.</summary>
    public void Load(string file)
    {
        var root = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }) as JsonObject
                   ?? throw new InvalidOperationException($"{file}: expected {{\"<wabaId>\": [templates]}}");
        foreach (var (waba, templates) in root)
        {
            foreach (var template in (templates as JsonArray ?? []).OfType<JsonObject>()) Add(waba, (JsonObject)template.DeepClone());
        }
    }

    public int Count(string wabaId)
    {
        lock (gate) return byWaba.TryGetValue(wabaId, out var list) ? list.Count : 0;
    }

    /// <summary>Sets one field (<c>status</c>, <c>category</c> or <c>quality_score</c>) of a variant; false when there is no such variant.</summary>
    public bool Set(string wabaId, string name, string language, string field, string value)
    {
        lock (gate)
        {
            if (!byWaba.TryGetValue(wabaId, out var list) || list.FirstOrDefault(t => Same(t, name, language)) is not { } template) return false;
            template[field] = field == "quality_score" ? new JsonObject { ["score"] = value } : value;
            return true;
        }
    }

    /// <summary>One page as Graph answers it, <c>paging.next</c> being the full URL of the next page while there is one.</summary>
    public string Page(string wabaId, int offset, int limit, string nextUrlWithoutAfter)
    {
        JsonArray data;
        int total;
        lock (gate)
        {
            var list = byWaba.TryGetValue(wabaId, out var l) ? l : [];
            total = list.Count;
            data = [.. list.Skip(offset).Take(limit).Select(t => t.DeepClone())];
        }

        var paging = new JsonObject { ["cursors"] = new JsonObject { ["before"] = Cursor(offset), ["after"] = Cursor(offset + data.Count) } };
        if (offset + data.Count < total) paging["next"] = $"{nextUrlWithoutAfter}&after={Cursor(offset + data.Count)}";
        return new JsonObject { ["data"] = data, ["paging"] = paging }.ToJsonString();
    }

    public static string Cursor(int offset) => Convert.ToBase64String(Encoding.ASCII.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The offset a cursor names; 0 for none or a cursor the stub did not make.</summary>
    public static int Offset(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return 0;
        try
        {
            return int.TryParse(Encoding.ASCII.GetString(Convert.FromBase64String(cursor)), NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : 0;
        }
        catch (FormatException)
        {
            return 0;
        }
    }

    /// <summary>
    /// The Graph error a template send gets from this WABA's catalog, as (code, title, details); null when it may go.
    /// A WABA without a catalog lets every template go.
    /// </summary>
    public (int Code, string Title, string Details)? Check(string wabaId, JsonNode? send)
    {
        var name = (string?)send?["template"]?["name"];
        var language = (string?)send?["template"]?["language"]?["code"];
        JsonObject? template;
        lock (gate)
        {
            if (!byWaba.TryGetValue(wabaId, out var list) || list.Count == 0) return null;
            template = list.FirstOrDefault(t => Same(t, name, language));
            if (template is null) return (132001, "Template name does not exist in the translation", $"template name ({name}) does not exist in {language}");
            var status = (string?)template["status"];
            if (status == "PAUSED") return (132015, "Template is paused", $"template {name} is paused due to low quality");
            if (status == "DISABLED") return (132016, "Template is disabled", $"template {name} is disabled");
            if (status != "APPROVED") return (132001, "Template name does not exist in the translation", $"template {name} is {status}");
            var expected = Placeholders((string?)(template["components"] as JsonArray)?.FirstOrDefault(c => (string?)c?["type"] == "BODY")?["text"]);
            var given = (send!["template"]!["components"] as JsonArray)?.FirstOrDefault(c => (string?)c?["type"] == "body")?["parameters"] is JsonArray p ? p.Count : 0;
            if (expected != given) return (132000, "Number of parameters does not match the expected number of params", $"body: number of localizable_params ({given}) does not match the expected number of params ({expected})");
        }

        return null;
    }

    private static int Placeholders(string? body) =>
        body is null ? 0 : Placeholder().Matches(body).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).Count();

    private static bool Same(JsonObject template, string? name, string? language) =>
        (string?)template["name"] == name && (string?)template["language"] == language;

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")]
    private static partial Regex Placeholder();
}
