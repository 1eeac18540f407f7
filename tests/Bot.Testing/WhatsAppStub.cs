using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bot.Tools.WhatsAppStub;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Bot.Testing;

/// <summary>A send seen by the stub: who it went to (<c>to</c>, or the BSUID in <c>recipient</c>), what it said, and the callback data it carried.</summary>
public sealed record ObservedSend(string To, string? Text, string? TemplateName, string? CallbackData, JsonNode Body);

/// <summary>
/// The shipped WhatsApp stub (tools/WhatsAppStub: the same server class and JSON mappings run.sh and compose start) on a
/// free loopback port, keeping every request so tests can read them. Tests add their own mappings on top; any
/// priority below the shipped accept's 100 wins over it. <c>new WhatsAppStub(o => o with { WebhookUrl = …, AppSecret = … })</c>
/// starts it in world mode (statuses posted, windows and limits applied; see <see cref="WhatsAppStubOptions"/>).
/// </summary>
public sealed class WhatsAppStub : IDisposable
{
    public const string PhoneNumberId = WhatsAppStubServer.PhoneNumberId;
    public const string AccessToken = "EAAG-test-token";
    public const string MessagesPath = WhatsAppStubServer.MessagesPath;

    private readonly WhatsAppStubServer stub;
    private readonly Lazy<HttpClient> client;

    public WhatsAppStub()
        : this(static options => options)
    {
    }

    /// <param name="configure">Changes the options the tests' stub starts with (shipped mappings, whole request log kept).</param>
    public WhatsAppStub(Func<WhatsAppStubOptions, WhatsAppStubOptions> configure)
    {
        stub = WhatsAppStubServer.Start(configure(new WhatsAppStubOptions
        {
            MappingsFolder = Path.Combine(AppContext.BaseDirectory, "mappings"),
            MaxRequestLogCount = null,
        }));
        client = new(() => new HttpClient { BaseAddress = new Uri(stub.Url) });
    }

    public WireMockServer Server => stub.Server;

    public string Url => stub.Url;

    /// <summary>The template catalogs the stub serves and checks template sends against (empty: any template goes).</summary>
    public Bot.Tools.WhatsAppStub.Templates.StubCatalog Catalog => stub.Catalog;

    /// <summary>Files uploaded to the stub's media endpoint.</summary>
    public long MediaUploads => stub.MediaUploads;

    /// <summary>The WABA id the stub posts webhooks for and checks template sends against.</summary>
    public const string WabaId = WhatsAppStubOptions.DefaultWabaId;

    /// <summary>Counts per recipient, as <c>GET /stub/received</c> reports them.</summary>
    public ReceivedCounts Received => stub.Received;

    /// <summary>Every POST to a messages endpoint (any phone number id), whatever was answered.</summary>
    public IReadOnlyList<ObservedSend> Sends =>
        [.. Server.LogEntries
            .Where(e => WhatsAppStubServer.IsMessagesPath(e.RequestMessage.Path) && e.RequestMessage.Method == "POST")
            .Select(e => Parse(e.RequestMessage.Body!))];

    /// <summary>Sends the API answered with 200, i.e. messages WhatsApp accepted.</summary>
    public IReadOnlyList<ObservedSend> Accepted =>
        [.. Server.LogEntries
            .Where(e => WhatsAppStubServer.IsMessagesPath(e.RequestMessage.Path) && e.ResponseMessage.StatusCode is 200 or "200")
            .Select(e => Parse(e.RequestMessage.Body!))];

    /// <summary>
    /// World mode: the person <paramref name="from"/> (digits, no '+') messages <paramref name="phoneNumberId"/>, which
    /// opens their customer-service window and posts the signed inbound webhook; returns its wamid.
    /// </summary>
    public async Task<string> InboundAsync(string phoneNumberId, string from, string text, string? name = null, string? waId = null)
    {
        using var response = await client.Value.PostAsJsonAsync(WhatsAppStubServer.InboundPath, new { phoneNumberId, from, text, name, waId });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {WhatsAppStubServer.InboundPath} answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    public int CountTo(string phone) => Sends.Count(s => s.To == phone);

    /// <summary>
    /// The sends, once at least <paramref name="count"/> are logged. WireMock logs a request only after its answer
    /// is written, so the last sends of a completed announcement can show up a moment later.
    /// </summary>
    public Task<IReadOnlyList<ObservedSend>> WhenSentAsync(int count) =>
        Eventually.WaitAsync(() => Task.FromResult(Sends), s => s.Count >= count, TimeSpan.FromSeconds(5), $"{count} sends logged");

    /// <summary>Answers sends to <paramref name="to"/> with a Graph error (and optional headers) instead of accepting them.</summary>
    public IRespondWithAProvider ForRecipient(string to, int priority = 1) =>
        Server.Given(Request.Create().WithPath(MessagesPath).UsingPost()
                .WithBody(new JsonPartialMatcher(JsonSerializer.Serialize(new { to }))))
            .AtPriority(priority);

    public static IResponseBuilder GraphError(int status, int code, string message) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
            .WithBodyAsJson(new { error = new { message = $"(#{code}) {message}", type = "OAuthException", code, fbtrace_id = "AbCdEf" } });

    /// <summary>The stub's own accepted answer (fresh wamid), e.g. to add a delay for one recipient.</summary>
    public static IResponseBuilder AcceptedResponse(string to) =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(_ => AcceptedSend.Body(to));

    private static ObservedSend Parse(string body)
    {
        var json = JsonNode.Parse(body)!;
        return new ObservedSend(
            (json["to"] ?? json["recipient"])!.GetValue<string>(),
            json["text"]?["body"]?.GetValue<string>(),
            json["template"]?["name"]?.GetValue<string>(),
            json["biz_opaque_callback_data"]?.GetValue<string>(),
            json);
    }

    public void Dispose()
    {
        if (client.IsValueCreated) client.Value.Dispose();
        stub.Dispose();
    }
}
