using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bot.Tools.WhatsAppStub.Templates;
using Bot.Tools.WhatsAppStub.World;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Bot.Tools.WhatsAppStub;

/// <summary>
/// Templates and media as Graph has them: <c>GET /{version}/{waba}/message_templates</c> in pages, <c>POST
/// /{version}/{phoneNumberId}/media</c> answering a media id, and <c>POST /stub/templates</c> changing a variant's
/// status, quality or category and posting the signed template webhook, as Meta does when it reviews a template.
/// </summary>
public sealed partial class WhatsAppStubServer
{
    public const string TemplatesPath = "/stub/templates";
    private const int DefaultPageSize = 25;

    private static readonly HttpClient WebhookClient = new() { Timeout = TimeSpan.FromSeconds(10) };
    private long mediaUploads;

    /// <summary>The catalogs of the stub's WABAs; a test adds templates here, the tool loads <c>--templates FILE</c>.</summary>
    public StubCatalog Catalog { get; } = new();

    /// <summary>Files uploaded to <c>/{phoneNumberId}/media</c>.</summary>
    public long MediaUploads => Interlocked.Read(ref mediaUploads);

    private WhatsAppStubOptions options = new();

    private void MapTemplates(WireMockServer server, WhatsAppStubOptions settings)
    {
        options = settings;
        if (settings.TemplatesFile is { } file) Catalog.Load(file);
        server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher(@"^/v\d+\.\d+/[^/]+/message_templates$")).UsingGet())
            .AtPriority(1)
            .RespondWith(Response.Create().WithCallback(ListTemplates));
        server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher(@"^/v\d+\.\d+/[^/]+/media$")).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithCallback(UploadMedia));
        server.Given(Request.Create().WithPath(TemplatesPath).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithCallback(ChangeTemplateAsync));
    }

    private ResponseMessage ListTemplates(IRequestMessage request)
    {
        var segments = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var query = request.Query ?? new Dictionary<string, WireMock.Types.WireMockList<string>>();
        var limit = query.TryGetValue("limit", out var l) && int.TryParse(l.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? Math.Min(n, 1000) : DefaultPageSize;
        var after = query.TryGetValue("after", out var a) ? a.FirstOrDefault() : null;
        var fields = query.TryGetValue("fields", out var f) ? f.FirstOrDefault() : null;
        var next = $"{request.Origin}{request.Path}?limit={limit}" + (fields is null ? "" : $"&fields={Uri.EscapeDataString(fields)}");
        return StubResponses.Json(200, Catalog.Page(segments[1], StubCatalog.Offset(after), limit, next));
    }

    private ResponseMessage UploadMedia(IRequestMessage request)
    {
        if (request.BodyAsBytes is not { Length: > 0 } && string.IsNullOrEmpty(request.Body))
        {
            return StubResponses.Json(400, """{"error":{"message":"(#100) The parameter file is required.","type":"OAuthException","code":100,"fbtrace_id":"AStubTrace100"}}""");
        }

        var id = Interlocked.Increment(ref mediaUploads) + 4_000_000_000_000_000;
        return StubResponses.Json(200, $$"""{"id":"{{id}}"}""");
    }

    /// <summary>
    /// <c>POST /stub/templates</c> <c>{wabaId?, name, language, status?, category?, qualityScore?, reason?}</c>: changes the
    /// variant and, with a webhook URL, posts each change's signed webhook before answering <c>{posted}</c>.
    /// </summary>
    private async Task<IResponseMessage> ChangeTemplateAsync(IRequestMessage request)
    {
        TemplateChangeRequest? change;
        try
        {
            change = JsonSerializer.Deserialize<TemplateChangeRequest>(request.Body ?? "", TemplateChangeRequest.Json);
        }
        catch (JsonException)
        {
            change = null;
        }

        if (change is not { Name: { Length: > 0 } name, Language: { Length: > 0 } language } || change is { Status: null, Category: null, QualityScore: null })
        {
            return InboundError(400, """expected JSON {"name":"...","language":"de","status":"PAUSED","category":"MARKETING","qualityScore":"RED","reason":"optional","wabaId":"optional"}""");
        }

        var waba = change.WabaId ?? options.WabaId;
        var updates = new List<(string Field, JsonObject Value)>();
        if (change.Status is { } status && Catalog.Set(waba, name, language, "status", status))
            updates.Add(("message_template_status_update", new JsonObject { ["event"] = status, ["reason"] = change.Reason ?? "NONE" }));
        if (change.QualityScore is { } score && Catalog.Set(waba, name, language, "quality_score", score))
            updates.Add(("message_template_quality_update", new JsonObject { ["previous_quality_score"] = "UNKNOWN", ["new_quality_score"] = score }));
        if (change.Category is { } category && Catalog.Set(waba, name, language, "category", category))
            updates.Add(("template_category_update", new JsonObject { ["previous_category"] = "UNKNOWN", ["new_category"] = category }));
        if (updates.Count == 0) return InboundError(404, "no such template in that WABA's catalog");

        var posted = 0;
        if (options.WebhookUrl is { } url && options.AppSecret is { } secret)
        {
            foreach (var (field, value) in updates)
            {
                value["message_template_name"] = name;
                value["message_template_language"] = language;
                var body = Encoding.UTF8.GetBytes(new JsonObject
                {
                    ["object"] = "whatsapp_business_account",
                    ["entry"] = new JsonArray(new JsonObject
                    {
                        ["id"] = waba,
                        ["time"] = options.Time.GetUtcNow().ToUnixTimeSeconds(),
                        ["changes"] = new JsonArray(new JsonObject { ["field"] = field, ["value"] = value }),
                    }),
                }.ToJsonString());
                using var post = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                post.Content.Headers.ContentType = new("application/json");
                post.Headers.Add(WebhookPoster.SignatureHeader, WebhookPoster.Sign(body, Encoding.UTF8.GetBytes(secret)));
                using var response = await WebhookClient.SendAsync(post);
                if (!response.IsSuccessStatusCode) return InboundError(502, $"the webhook answered {(int)response.StatusCode} to {field}");
                posted++;
            }
        }

        return StubResponses.Json(200, $$"""{"changed":{{updates.Count}},"posted":{{posted}}}""");
    }

    /// <summary>The Graph error of a template send the catalog refuses; null when it may go (or it is no template).</summary>
    internal ResponseMessage? TemplateRefusal(IRequestMessage request)
    {
        if (Catalog.Count(options.WabaId) == 0) return null;
        JsonNode? send;
        try
        {
            send = JsonNode.Parse(request.Body ?? "");
        }
        catch (JsonException)
        {
            return null;
        }

        if ((string?)send?["type"] != "template" || Catalog.Check(options.WabaId, send) is not { } error) return null;
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = $"(#{error.Code}) {error.Title}", ["type"] = "OAuthException", ["code"] = error.Code,
                ["error_data"] = new JsonObject { ["messaging_product"] = "whatsapp", ["details"] = error.Details },
                ["fbtrace_id"] = $"AStubTrace{error.Code}",
            },
        };
        return StubResponses.Json(400, body.ToJsonString());
    }

    private sealed record TemplateChangeRequest(string? WabaId, string? Name, string? Language, string? Status, string? Category, string? QualityScore, string? Reason)
    {
        public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    }
}
