using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace Bot.Testing;

/// <summary>A send seen by the stub: who it went to, what it said, and the callback data it carried.</summary>
public sealed record ObservedSend(string To, string? Text, string? TemplateName, string? CallbackData, JsonNode Body);

/// <summary>WireMock.Net standing in for the WhatsApp Cloud API's messages endpoint.</summary>
public sealed class WhatsAppStub : IDisposable
{
    public const string PhoneNumberId = "106540352242922";
    public const string AccessToken = "EAAG-test-token";
    public const string MessagesPath = "/v23.0/" + PhoneNumberId + "/messages";

    private int messageCounter;

    public WhatsAppStub()
    {
        Server = WireMockServer.Start();
        // Lowest priority: specific fault mappings added by a test win over this default.
        Server.Given(Request.Create().WithPath(MessagesPath).UsingPost())
            .AtPriority(100)
            .RespondWith(Response.Create().WithCallback(Accept));
    }

    public WireMockServer Server { get; }

    public string Url => Server.Url!;

    /// <summary>Every POST to the messages endpoint, whatever was answered.</summary>
    public IReadOnlyList<ObservedSend> Sends =>
        [.. Server.LogEntries
            .Where(e => e.RequestMessage.Path == MessagesPath && e.RequestMessage.Method == "POST")
            .Select(e => Parse(e.RequestMessage.Body!))];

    /// <summary>Sends the API answered with 200, i.e. messages WhatsApp accepted.</summary>
    public IReadOnlyList<ObservedSend> Accepted =>
        [.. Server.LogEntries
            .Where(e => e.RequestMessage.Path == MessagesPath && e.ResponseMessage.StatusCode is 200 or "200")
            .Select(e => Parse(e.RequestMessage.Body!))];

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

    public static IResponseBuilder AcceptedResponse(string to) =>
        Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBodyAsJson(new { messaging_product = "whatsapp", contacts = new[] { new { input = to, wa_id = to.TrimStart('+') } }, messages = new[] { new { id = $"wamid.fixed{Guid.NewGuid():N}", message_status = "accepted" } } });

    private ResponseMessage Accept(IRequestMessage request)
    {
        var to = JsonNode.Parse(request.Body!)?["to"]?.GetValue<string>() ?? "";
        var id = $"wamid.HBgL{Interlocked.Increment(ref messageCounter):D8}{Guid.NewGuid():N}";
        var body = JsonSerializer.Serialize(new
        {
            messaging_product = "whatsapp",
            contacts = new[] { new { input = to, wa_id = to.TrimStart('+') } },
            messages = new[] { new { id, message_status = "accepted" } },
        });
        return new ResponseMessage
        {
            StatusCode = 200,
            Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
            BodyData = new BodyData { BodyAsString = body, DetectedBodyType = BodyType.String },
        };
    }

    private static ObservedSend Parse(string body)
    {
        var json = JsonNode.Parse(body)!;
        return new ObservedSend(
            json["to"]!.GetValue<string>(),
            json["text"]?["body"]?.GetValue<string>(),
            json["template"]?["name"]?.GetValue<string>(),
            json["biz_opaque_callback_data"]?.GetValue<string>(),
            json);
    }

    public void Dispose() => Server.Stop();
}
