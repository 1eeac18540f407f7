using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Tools.WhatsAppStub;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Bot.Tests.Tools;

/// <summary>
/// The stub's world mode: senders with their own tokens, the customer-service window, the messaging limit and the
/// signed webhooks WhatsApp would post, received here by a second WireMock server standing in for the webhook host.
/// </summary>
public sealed class WhatsAppStubWorldTests : IDisposable
{
    private const string AppSecret = "world-test-app-secret";
    private const string SenderA = "106540352242922";
    private const string TokenA = "EAAG-token-a";
    private const string SenderB = "106540352242933";
    private const string TokenB = "EAAG-token-b";
    private static readonly TimeSpan WebhookDeadline = TimeSpan.FromSeconds(10);

    private readonly WireMockServer receiver = WireMockServer.Start();
    private readonly List<IDisposable> disposables = [];

    public WhatsAppStubWorldTests()
    {
        receiver.Given(Request.Create().WithPath("/webhook").UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
    }

    [Fact]
    public async Task AWrongOrMissingTokenIsAnswered401WithGraphError190()
    {
        var stub = World();

        var wrong = await SendAsync(stub, SenderA, "not-a-token", Text("+16505550101"));
        var missing = await SendAsync(stub, SenderA, token: null, Text("+16505550101"));

        foreach (var (status, body) in new[] { wrong, missing })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal(190, body["error"]!["code"]!.GetValue<int>());
            Assert.Equal("OAuthException", body["error"]!["type"]!.GetValue<string>());
            Assert.StartsWith("(#190) ", body["error"]!["message"]!.GetValue<string>());
        }

        Assert.Equal(0, stub.Received.Accepted);
    }

    [Fact]
    public async Task AnUnknownPhoneNumberIdOrAnotherSendersIdIsAnswered400WithCode100Subcode33()
    {
        var stub = World();

        var unknown = await SendAsync(stub, "999999999999999", TokenA, Text("+16505550102"));
        var notItsOwn = await SendAsync(stub, SenderB, TokenA, Text("+16505550102"));

        foreach (var (status, body) in new[] { unknown, notItsOwn })
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(100, body["error"]!["code"]!.GetValue<int>());
            Assert.Equal(33, body["error"]!["error_subcode"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task EachSenderIsCountedUnderItsOwnPhoneNumberId()
    {
        var stub = World();

        await SendAsync(stub, SenderA, TokenA, Template("+16505550103"));
        await SendAsync(stub, SenderA, TokenA, Template("+16505550104"));
        await SendAsync(stub, SenderB, TokenB, Template("+16505550105"));
        await SendAsync(stub, SenderB, TokenA, Template("+16505550106")); // rejected: not its token

        var received = await ReceivedAsync(stub);
        Assert.Equal(2, received["bySender"]![SenderA]!.GetValue<int>());
        Assert.Equal(1, received["bySender"]![SenderB]!.GetValue<int>());
        Assert.Equal(3, received["accepted"]!.GetValue<int>());
        Assert.Equal(1, received["rejected"]!.GetValue<int>());
    }

    [Fact]
    public async Task TextOutsideTheWindowIsAcceptedThenFailsWith131047()
    {
        var stub = World();

        var (status, body) = await SendAsync(stub, SenderA, TokenA, Text("+16505550107", callbackData: "ann-1|e-7"));

        Assert.Equal(HttpStatusCode.OK, status);
        var messageId = body["messages"]![0]!["id"]!.GetValue<string>();
        var failed = Assert.Single(await StatusesAsync(messageId, 1));
        Assert.Equal("failed", failed.Status["status"]!.GetValue<string>());
        Assert.Equal(SenderA, failed.PhoneNumberId);
        Assert.Equal("16505550107", failed.Status["recipient_id"]!.GetValue<string>());
        Assert.Equal("ann-1|e-7", failed.Status["biz_opaque_callback_data"]!.GetValue<string>());
        var error = failed.Status["errors"]![0]!;
        Assert.Equal(131047, error["code"]!.GetValue<int>());
        Assert.Equal("Re-engagement message", error["title"]!.GetValue<string>());
        Assert.Contains("more than 24 hours", error["error_data"]!["details"]!.GetValue<string>());
        Assert.Equal(1, (await ReceivedAsync(stub))["outsideWindow"]!.GetValue<int>());
    }

    [Fact]
    public async Task TextAfterThePersonMessagedIsSentDeliveredAndReadInOrderWithTheCallbackDataEchoed()
    {
        var stub = World();
        await stub.InboundAsync(SenderA, "16505550108", "hello");

        var (status, body) = await SendAsync(stub, SenderA, TokenA, Text("+16505550108", callbackData: "ann-2|e-8"));

        Assert.Equal(HttpStatusCode.OK, status);
        var messageId = body["messages"]![0]!["id"]!.GetValue<string>();
        var statuses = await StatusesAsync(messageId, 3);
        Assert.Equal(["sent", "delivered", "read"], statuses.Select(s => s.Status["status"]!.GetValue<string>()));
        Assert.All(statuses, s =>
        {
            Assert.Equal("ann-2|e-8", s.Status["biz_opaque_callback_data"]!.GetValue<string>());
            Assert.Equal("16505550108", s.Status["recipient_id"]!.GetValue<string>());
            Assert.Matches("^[0-9]{10}$", s.Status["timestamp"]!.GetValue<string>());
            Assert.Null(s.Status["errors"]);
        });
        Assert.Equal(0, (await ReceivedAsync(stub))["outsideWindow"]!.GetValue<int>());
    }

    [Fact]
    public async Task ATemplateOutsideTheWindowIsDelivered()
    {
        var stub = World();

        var (_, body) = await SendAsync(stub, SenderA, TokenA, Template("+16505550109"));

        var statuses = await StatusesAsync(body["messages"]![0]!["id"]!.GetValue<string>(), 3);
        Assert.Equal(["sent", "delivered", "read"], statuses.Select(s => s.Status["status"]!.GetValue<string>()));
        // No callback data was sent, so none comes back.
        Assert.All(statuses, s => Assert.Null(s.Status["biz_opaque_callback_data"]));
    }

    [Fact]
    public async Task AMessagingLimitOfThreeFailsTheFourthAndFifthNewRecipientsWith131049()
    {
        var stub = World(o => o with { MessagingLimit = 3, ReadAfter = null, DeliveredAfter = null });
        var recipients = Enumerable.Range(1, 5).Select(i => $"+1650555020{i}").ToList();

        var ids = new List<string>();
        for (var i = 0; i < recipients.Count; i++)
        {
            // Both senders: the limit is the portfolio's, shared by its numbers.
            var (status, body) = i % 2 == 0 ? await SendAsync(stub, SenderA, TokenA, Template(recipients[i])) : await SendAsync(stub, SenderB, TokenB, Template(recipients[i]));
            Assert.Equal(HttpStatusCode.OK, status);
            ids.Add(body["messages"]![0]!["id"]!.GetValue<string>());
        }

        // A recipient already reached in the window is not a new one.
        var (_, again) = await SendAsync(stub, SenderA, TokenA, Template(recipients[0]));
        ids.Add(again["messages"]![0]!["id"]!.GetValue<string>());

        var outcomes = await Task.WhenAll(ids.Select(async id => (await StatusesAsync(id, 1))[0].Status));
        Assert.Equal(["sent", "sent", "sent", "failed", "failed", "sent"], outcomes.Select(s => s["status"]!.GetValue<string>()));
        Assert.All(outcomes.Where(s => s["status"]!.GetValue<string>() == "failed"), s =>
        {
            Assert.Equal(131049, s["errors"]![0]!["code"]!.GetValue<int>());
            Assert.Equal("Messaging limit reached (stub)", s["errors"]![0]!["title"]!.GetValue<string>());
        });
        Assert.Equal(2, (await ReceivedAsync(stub))["overMessagingLimit"]!.GetValue<int>());
    }

    [Fact]
    public async Task TheWindowAndTheMessagingLimitMoveWithTime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var stub = World(o => o with { Time = time, CustomerServiceWindow = TimeSpan.FromSeconds(30), MessagingLimit = 1, MessagingLimitWindow = TimeSpan.FromMinutes(1) });
        await stub.InboundAsync(SenderA, "16505550301", "hi");

        await SendAsync(stub, SenderA, TokenA, Text("+16505550301"));
        time.Advance(TimeSpan.FromSeconds(30));
        await SendAsync(stub, SenderA, TokenA, Text("+16505550301"));

        await SendAsync(stub, SenderA, TokenA, Template("+16505550302"));
        await SendAsync(stub, SenderA, TokenA, Template("+16505550303"));
        time.Advance(TimeSpan.FromMinutes(1));
        await SendAsync(stub, SenderA, TokenA, Template("+16505550303"));

        // Counted as each send is answered: the second text came when the window had just closed, and the third
        // template once the first recipient's minute was over.
        Assert.Equal(1, stub.Received.OutsideWindow);
        Assert.Equal(1, stub.Received.OverMessagingLimit);
    }

    [Fact]
    public async Task AnInboundMessageIsForwardedSignedAndShapedLikeMetas()
    {
        var stub = World();

        var id = await stub.InboundAsync(SenderB, "5511912345678", "STOP", name: "Sheena Nelson", waId: "551112345678");

        var post = await Eventually.WaitAsync(() => Task.FromResult(Webhooks()), posts => posts.Count >= 1, WebhookDeadline, "the inbound webhook");
        var (bytes, signature) = Assert.Single(post);
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), bytes)), signature);
        var json = JsonNode.Parse(bytes)!;
        Assert.Equal("whatsapp_business_account", json["object"]!.GetValue<string>());
        var change = json["entry"]![0]!["changes"]![0]!;
        Assert.Equal("messages", change["field"]!.GetValue<string>());
        var value = change["value"]!;
        Assert.Equal("whatsapp", value["messaging_product"]!.GetValue<string>());
        Assert.Equal(SenderB, value["metadata"]!["phone_number_id"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(value["metadata"]!["display_phone_number"]!.GetValue<string>()));
        Assert.Equal("Sheena Nelson", value["contacts"]![0]!["profile"]!["name"]!.GetValue<string>());
        Assert.Equal("551112345678", value["contacts"]![0]!["wa_id"]!.GetValue<string>());
        var message = value["messages"]![0]!;
        Assert.Equal("5511912345678", message["from"]!.GetValue<string>());
        Assert.Equal(id, message["id"]!.GetValue<string>());
        Assert.StartsWith("wamid.", id);
        Assert.Matches("^[0-9]{10}$", message["timestamp"]!.GetValue<string>());
        Assert.Equal("text", message["type"]!.GetValue<string>());
        Assert.Equal("STOP", message["text"]!["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task AMappedWaIdIsTheAnswersWaIdTheStatusesRecipientAndTheWindowsKey()
    {
        var stub = World(o => o with { WaIds = new Dictionary<string, string> { ["5511912345678"] = "551112345678" } });
        await stub.InboundAsync(SenderA, "551112345678", "oi");

        var (_, body) = await SendAsync(stub, SenderA, TokenA, Text("+5511912345678"));

        Assert.Equal("+5511912345678", body["contacts"]![0]!["input"]!.GetValue<string>());
        Assert.Equal("551112345678", body["contacts"]![0]!["wa_id"]!.GetValue<string>());
        var statuses = await StatusesAsync(body["messages"]![0]!["id"]!.GetValue<string>(), 3);
        Assert.All(statuses, s => Assert.Equal("551112345678", s.Status["recipient_id"]!.GetValue<string>()));
        Assert.DoesNotContain(statuses, s => s.Status["status"]!.GetValue<string>() == "failed");
    }

    [Fact]
    public async Task AWebhookThatAnswers500IsPostedAgain()
    {
        receiver.Given(Request.Create().WithPath("/flaky").UsingPost()).InScenario("flaky").WillSetStateTo("recovered")
            .RespondWith(Response.Create().WithStatusCode(500));
        receiver.Given(Request.Create().WithPath("/flaky").UsingPost()).InScenario("flaky").WhenStateIs("recovered")
            .RespondWith(Response.Create().WithStatusCode(200));
        var stub = World(o => o with { WebhookUrl = new Uri($"{receiver.Url}/flaky") });

        await stub.InboundAsync(SenderA, "16505550401", "hello");

        var posts = await Eventually.WaitAsync(() => Task.FromResult(Posts("/flaky")), p => p.Count >= 2, WebhookDeadline, "the webhook POSTed again");
        Assert.Equal(posts[0].Body, posts[1].Body);
        Assert.Equal(1, (await ReceivedAsync(stub))["webhooks"]!["updates"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnUnreachableWebhookIsDroppedAfterRetriesAndTheStubKeepsAnswering()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var stub = World(o => o with { Time = time, WebhookUrl = new Uri($"http://127.0.0.1:{Ports.Free()}/webhook") });
        await stub.InboundAsync(SenderA, "16505550501", "hello");

        // Each probe moves the stub's clock a second, so its back-off passes without the test sleeping.
        await Eventually.WaitAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return ReceivedAsync(stub);
        }, r => r["webhooks"]!["dropped"]!.GetValue<int>() == 1, WebhookDeadline, "the inbound message dropped");

        var (status, _) = await SendAsync(stub, SenderA, TokenA, Template("+16505550502"));
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData("""{"phoneNumberId":"106540352242922","from":"+16505550701","text":"hello"}""", 400)]
    [InlineData("""{"phoneNumberId":"106540352242922","from":"16505550701"}""", 400)]
    [InlineData("""not json""", 400)]
    [InlineData("""{"phoneNumberId":"999","from":"16505550701","text":"hello"}""", 404)]
    public async Task AMalformedInboundOrOneToAnUnknownNumberIsRefused(string body, int status)
    {
        var stub = World();
        using var client = new HttpClient { BaseAddress = new Uri(stub.Url) };

        using var response = await client.PostAsync(WhatsAppStubServer.InboundPath, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]);
    }

    [Fact]
    public async Task OutsideWorldModeInboundIsRefusedAndNoStatusesArePosted()
    {
        using var stub = new WhatsAppStub();

        await Assert.ThrowsAsync<InvalidOperationException>(() => stub.InboundAsync(SenderA, "16505550601", "hello"));
        using var client = new HttpClient { BaseAddress = new Uri(stub.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "any-token");
        using var response = await client.PostAsJsonAsync("/v23.0/any-id/messages", Text("+16505550601"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, stub.Received.AcceptedFrom("any-id"));
    }

    [Fact]
    public void TheCommandLineAndTheEnvironmentSetWorldMode()
    {
        var environment = new Dictionary<string, string>
        {
            ["STUB_SENDERS"] = $"{SenderA}={TokenA},{SenderB}={TokenB}",
            ["STUB_APP_SECRET"] = AppSecret,
        };
        string[] args =
        [
            "--webhook-url", "http://localhost:8080/webhook", "--customer-service-window", "30s", "--messaging-limit", "250",
            "--read-after", "off", "--delivered-after", "1500ms", "--wa-id", "5511912345678=551112345678", "--mappings", Path.Combine(AppContext.BaseDirectory, "mappings"),
        ];

        var options = StubSettings.Parse(args, environment.GetValueOrDefault, out var error)?.Options;

        Assert.Null(error);
        Assert.Equal(new Uri("http://localhost:8080/webhook"), options!.WebhookUrl);
        Assert.Equal(AppSecret, options.AppSecret);
        Assert.Equal(TokenB, options.Senders[SenderB]);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CustomerServiceWindow);
        Assert.Equal(250, options.MessagingLimit);
        Assert.Null(options.ReadAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.DeliveredAfter);
        Assert.Equal(TimeSpan.FromSeconds(0.5), options.SentAfter);
        Assert.Equal("551112345678", options.WaIds["5511912345678"]);
        Assert.Null(StubSettings.Parse(["--webhook-url", "http://localhost:8080/webhook"], _ => null, out error));
        Assert.Contains("app secret", error);
    }

    public void Dispose()
    {
        foreach (var disposable in disposables) disposable.Dispose();
        receiver.Stop();
    }

    /// <summary>The tests' stub in world mode: two senders, webhooks to <see cref="receiver"/>, statuses within 100 ms.</summary>
    private WhatsAppStub World(Func<WhatsAppStubOptions, WhatsAppStubOptions>? configure = null)
    {
        var stub = new WhatsAppStub(o => (configure ?? (x => x))(o with
        {
            Senders = new Dictionary<string, string> { [SenderA] = TokenA, [SenderB] = TokenB },
            WebhookUrl = new Uri($"{receiver.Url}/webhook"),
            AppSecret = AppSecret,
            SentAfter = TimeSpan.Zero,
            DeliveredAfter = TimeSpan.FromMilliseconds(50),
            ReadAfter = TimeSpan.FromMilliseconds(100),
        }));
        disposables.Add(stub);
        return stub;
    }

    private static object Text(string to, string? callbackData = null) => new
    {
        messaging_product = "whatsapp", recipient_type = "individual", to, type = "text",
        text = new { preview_url = false, body = "Party on Saturday" }, biz_opaque_callback_data = callbackData,
    };

    private static object Template(string to) => new
    {
        messaging_product = "whatsapp", to, type = "template",
        template = new { name = "shift_notice", language = new { code = "en_US" } },
    };

    private static async Task<(HttpStatusCode Status, JsonNode Body)> SendAsync(WhatsAppStub stub, string phoneNumberId, string? token, object message)
    {
        using var client = new HttpClient { BaseAddress = new Uri(stub.Url) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.PostAsJsonAsync($"/v23.0/{phoneNumberId}/messages", message);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static async Task<JsonNode> ReceivedAsync(WhatsAppStub stub)
    {
        using var client = new HttpClient { BaseAddress = new Uri(stub.Url) };
        return (await client.GetFromJsonAsync<JsonNode>(WhatsAppStubServer.ReceivedPath))!;
    }

    private List<(byte[] Body, string? Signature)> Posts(string path) =>
        [.. receiver.LogEntries
            .Where(e => e.RequestMessage.Path == path && e.RequestMessage.Method == "POST")
            .Select(e => (
                e.RequestMessage.BodyAsBytes ?? Encoding.UTF8.GetBytes(e.RequestMessage.Body ?? ""),
                e.RequestMessage.Headers is { } headers && headers.TryGetValue("X-Hub-Signature-256", out var signature) ? signature.FirstOrDefault() : null))];

    private List<(byte[] Body, string? Signature)> Webhooks() => Posts("/webhook");

    /// <summary>Every status posted for <paramref name="messageId"/>, in the order posted, once there are <paramref name="count"/>; each POST's signature checked.</summary>
    private async Task<List<(string PhoneNumberId, JsonNode Status)>> StatusesAsync(string messageId, int count) =>
        await Eventually.WaitAsync(() => Task.FromResult(Statuses(messageId)), s => s.Count >= count, WebhookDeadline, $"{count} statuses of {messageId}");

    private List<(string PhoneNumberId, JsonNode Status)> Statuses(string messageId)
    {
        var found = new List<(string, JsonNode)>();
        foreach (var (body, signature) in Webhooks())
        {
            Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), body)), signature);
            foreach (var entry in JsonNode.Parse(body)!["entry"]!.AsArray())
            {
                foreach (var change in entry!["changes"]!.AsArray())
                {
                    var value = change!["value"]!;
                    var phoneNumberId = value["metadata"]!["phone_number_id"]!.GetValue<string>();
                    foreach (var status in value["statuses"]?.AsArray() ?? [])
                    {
                        if (status!["id"]!.GetValue<string>() == messageId) found.Add((phoneNumberId, status));
                    }
                }
            }
        }

        return found;
    }
}
