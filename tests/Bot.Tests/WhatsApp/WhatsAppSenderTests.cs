using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Bot.Tests.WhatsApp;

public sealed class WhatsAppSenderTests : IDisposable
{
    private const string Recipient = "+16505551234";
    private const string WamId = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3N0E2QkU1NjQzMEM0RjY3AA==";

    private readonly WireMockServer _graph = WireMockServer.Start();
    private readonly ListLoggerProvider _logs = new();
    private ServiceProvider? _services;

    public void Dispose()
    {
        _services?.Dispose();
        _graph.Stop();
        _graph.Dispose();
    }

    [Fact]
    public async Task TextMessageIsPostedInGraphShapeWithBearerToken()
    {
        GraphAnswers(200, Accepted(WamId));

        await Sender().SendAsync(new TextMessage(Recipient, "Shift moved to 9:00", CallbackData: "ann-42:emp-7"));

        var request = SingleRequest();
        Assert.Equal(WhatsAppTestHost.MessagesPath, request.RequestMessage!.Path);
        Assert.Equal("POST", request.RequestMessage.Method);
        Assert.Equal($"Bearer {WhatsAppTestHost.AccessToken}", Header(request, "Authorization"));
        AssertJson(
            """
            {"messaging_product":"whatsapp","recipient_type":"individual","to":"+16505551234","type":"text",
             "text":{"preview_url":false,"body":"Shift moved to 9:00"},"biz_opaque_callback_data":"ann-42:emp-7"}
            """,
            request.RequestMessage.Body);
    }

    [Fact]
    public async Task TemplateMessageCarriesBodyParametersInOrder()
    {
        GraphAnswers(200, Accepted(WamId));

        await Sender().SendAsync(new TemplateMessage(Recipient, "shift_notice", "en_US", ["Alice", "Monday"]));

        AssertJson(
            """
            {"messaging_product":"whatsapp","recipient_type":"individual","to":"+16505551234","type":"template",
             "template":{"name":"shift_notice","language":{"code":"en_US"},"components":[{"type":"body","parameters":[
               {"type":"text","text":"Alice"},{"type":"text","text":"Monday"}]}]}}
            """,
            SingleRequest().RequestMessage!.Body);
    }

    [Fact]
    public async Task ButtonsMessageIsAnInteractiveReplyButtonMessage()
    {
        GraphAnswers(200, Accepted(WamId));

        await Sender().SendAsync(new ButtonsMessage(Recipient, "Read the new rules", [new ReplyButton("ack:a1", "Got it")], "a1:e1"));

        AssertJson(
            """
            {"messaging_product":"whatsapp","recipient_type":"individual","to":"+16505551234","type":"interactive",
             "interactive":{"type":"button","body":{"text":"Read the new rules"},
               "action":{"buttons":[{"type":"reply","reply":{"id":"ack:a1","title":"Got it"}}]}},
             "biz_opaque_callback_data":"a1:e1"}
            """,
            SingleRequest().RequestMessage!.Body);
    }

    [Fact]
    public async Task TemplateQuickReplyPayloadsFollowTheBodyByButtonIndex()
    {
        GraphAnswers(200, Accepted(WamId));

        await Sender().SendAsync(new TemplateMessage(Recipient, "notice", "en", ["Read the new rules"], QuickReplyPayloads: ["ack:a1"]));

        AssertJson(
            """
            {"messaging_product":"whatsapp","recipient_type":"individual","to":"+16505551234","type":"template",
             "template":{"name":"notice","language":{"code":"en"},"components":[
               {"type":"body","parameters":[{"type":"text","text":"Read the new rules"}]},
               {"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"ack:a1"}]}]}}
            """,
            SingleRequest().RequestMessage!.Body);
    }

    [Fact]
    public async Task TemplateWithoutParametersOmitsComponents()
    {
        GraphAnswers(200, Accepted(WamId));

        await Sender().SendAsync(new TemplateMessage(Recipient, "hello_world", "en_US", []));

        AssertJson(
            """
            {"messaging_product":"whatsapp","recipient_type":"individual","to":"+16505551234","type":"template",
             "template":{"name":"hello_world","language":{"code":"en_US"}}}
            """,
            SingleRequest().RequestMessage!.Body);
    }

    [Fact]
    public async Task AcceptedAnswerReturnsTheWamidAndTheWhatsAppId()
    {
        GraphAnswers(200, Accepted(WamId));

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendResult.Accepted(WamId) with { WaId = Recipient.TrimStart('+') }, result);
    }

    [Fact]
    public async Task SuccessWithoutMessageIdIsUnknown()
    {
        GraphAnswers(200, """{"messaging_product":"whatsapp","messages":[]}""");

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.Unknown, result.Outcome);
    }

    [Fact]
    public async Task ThroughputLimitIsRetryableAfterTheAdvertisedDelay()
    {
        GraphAnswers(429, GraphError(130429, "(#130429) Rate limit hit"), retryAfter: "3");

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.Retryable, result.Outcome);
        Assert.Equal(130429, result.ErrorCode);
        Assert.Equal(TimeSpan.FromSeconds(3), result.RetryAfter);
    }

    [Fact]
    public async Task BareTooManyRequestsIsRetryable()
    {
        GraphAnswers(429, body: null, retryAfter: "3");

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(new SendResult(SendOutcome.Retryable, ErrorCode: 429, Error: result.Error, RetryAfter: TimeSpan.FromSeconds(3)), result);
    }

    [Fact]
    public async Task UndeliverableIsPermanent()
    {
        GraphAnswers(400, GraphError(131026, "(#131026) Message undeliverable"));

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.Permanent, result.Outcome);
        Assert.Equal(131026, result.ErrorCode);
        Assert.StartsWith("(#131026) Message undeliverable", result.Error);
    }

    [Fact]
    public async Task ExpiredTokenStopsTheLine()
    {
        GraphAnswers(401, GraphError(190, "Error validating access token: Session has expired"));

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.StopTheLine, result.Outcome);
        Assert.Equal(190, result.ErrorCode);
        // Per message at Debug: the dispatcher logs the pause once, not each send.
        Assert.Contains(_logs.Lines, line => line.StartsWith("Debug") && line.Contains("StopTheLine"));
    }

    [Fact]
    public async Task ServerErrorWithoutGraphBodyIsUnknown()
    {
        GraphAnswers(500, body: null);

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.Unknown, result.Outcome);
        Assert.Contains(_logs.Lines, line => line.StartsWith("Debug") && line.Contains("Unknown"));
    }

    [Fact]
    public async Task ServerErrorCarryingATemporaryGraphErrorIsUnknownNotRetried()
    {
        // A 5xx may come from a backend that failed after taking the message: the code proves nothing there.
        GraphAnswers(500, GraphError(131000, "(#131000) Something went wrong"));

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.Unknown, result.Outcome);
        Assert.Equal(131000, result.ErrorCode);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    public async Task AnAuthOrNotFoundAnswerWithoutAGraphErrorStopsTheLine(int status)
    {
        // Meta always answers with a Graph error: without one it is a proxy, a wrong base URL or a wrong version,
        // and every other employee would get the same answer.
        GraphAnswers(status, body: null);

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.StopTheLine, result.Outcome);
        Assert.Equal(status, result.ErrorCode);
    }

    [Fact]
    public async Task AnswerSlowerThanTimeoutIsUnknown()
    {
        GraphAnswers(200, Accepted(WamId), delay: TimeSpan.FromSeconds(3));
        var sender = Sender(new Dictionary<string, string?> { ["WhatsApp:Timeout"] = "00:00:01" });

        var result = await sender.SendAsync(new TextMessage(Recipient, "hi"));

        // The answer would have been accepted: only the client's timeout makes it unknown.
        Assert.Equal(SendOutcome.Unknown, result.Outcome);
        Assert.StartsWith("Timed out", result.Error);
    }

    [Fact]
    public async Task CallerCancellationIsUnknownNotThrown()
    {
        GraphAnswers(200, Accepted(WamId), delay: TimeSpan.FromSeconds(3));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"), cancellation.Token);

        Assert.Equal(SendOutcome.Unknown, result.Outcome);
        Assert.StartsWith("Cancelled", result.Error);
    }

    [Fact]
    public async Task RefusedConnectionIsRetryableBecauseNothingWasSent()
    {
        var sender = Sender(baseUrl: $"http://127.0.0.1:{ClosedPort()}");

        var result = await sender.SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.Retryable, result.Outcome);
        Assert.StartsWith("Not sent", result.Error);
    }

    [Fact]
    public async Task NeitherTokenNorFullNumberReachResultOrLogs()
    {
        GraphAnswers(400, GraphError(100, "(#100) Invalid parameter", details: "Recipient 16505551234 is not valid"));

        var result = await Sender().SendAsync(new TextMessage(Recipient, "hi"));

        Assert.Equal(SendOutcome.Permanent, result.Outcome);
        var everything = string.Join('\n', _logs.Lines.Append(result.Error));
        Assert.Contains("+1650****234", everything);
        Assert.DoesNotContain("6505551234", everything);
        Assert.DoesNotContain(WhatsAppTestHost.AccessToken, everything);
    }

    [Theory]
    [InlineData("16505551234")]
    [InlineData("+1 650 555 1234")]
    [InlineData("")]
    public async Task RecipientWithoutE164PlusIsRejectedBeforeSending(string to)
    {
        var result = await Sender().SendAsync(new TextMessage(to, "hi"));

        Assert.Equal(SendOutcome.Permanent, result.Outcome);
        Assert.StartsWith("Not sent:", result.Error);
        Assert.Empty(_graph.LogEntries);
    }

    [Fact]
    public async Task TextLongerThanWhatsAppAllowsIsRejectedBeforeSending()
    {
        var result = await Sender().SendAsync(new TextMessage(Recipient, new string('x', 4097)));

        Assert.Equal(SendOutcome.Permanent, result.Outcome);
        Assert.Empty(_graph.LogEntries);
    }

    private DefaultSender Sender(IDictionary<string, string?>? overrides = null, string? baseUrl = null)
    {
        _services = WhatsAppTestHost.Build(baseUrl ?? _graph.Url!, overrides, _logs);
        return new DefaultSender(_services.GetRequiredService<IWhatsAppSender>(), _services.GetRequiredService<SenderDirectory>().Get(Bot.WhatsAppClient.Sender.Default));
    }

    /// <summary>Sends from the sender <c>default</c> (<c>WhatsApp:PhoneNumberId</c>).</summary>
    private sealed record DefaultSender(IWhatsAppSender Inner, Sender From)
    {
        public Task<SendResult> SendAsync(OutgoingMessage message, CancellationToken cancellationToken = default) =>
            Inner.SendAsync(From, message, cancellationToken);
    }

    private void GraphAnswers(int status, string? body, string? retryAfter = null, TimeSpan? delay = null)
    {
        var response = Response.Create().WithStatusCode(status);
        if (body is not null)
            response = response.WithHeader("Content-Type", "application/json").WithBody(body);
        if (retryAfter is not null)
            response = response.WithHeader("Retry-After", retryAfter);
        if (delay is not null)
            response = response.WithDelay(delay.Value);

        _graph.Given(Request.Create().WithPath(WhatsAppTestHost.MessagesPath).UsingPost()).RespondWith(response);
    }

    private ILogEntry SingleRequest() => Assert.Single(_graph.LogEntries);

    private static string Header(ILogEntry entry, string name) =>
        entry.RequestMessage!.Headers!.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();

    private static void AssertJson(string expected, string? actual)
    {
        Assert.NotNull(actual);
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)),
            $"Expected {JsonNode.Parse(expected)!.ToJsonString()} but was {actual}");
    }

    private static string Accepted(string wamId) =>
        $$$"""{"messaging_product":"whatsapp","contacts":[{"input":"{{{Recipient}}}","wa_id":"16505551234"}],"messages":[{"id":"{{{wamId}}}","message_status":"accepted"}]}""";

    private static string GraphError(int code, string message, string details = "...") =>
        $$$"""{"error":{"message":"{{{message}}}","type":"OAuthException","code":{{{code}}},"error_data":{"messaging_product":"whatsapp","details":"{{{details}}}"},"error_subcode":2494055,"fbtrace_id":"AbCdEf"}}""";

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
