using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Tools.WhatsAppStub;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Bot.Tests.Tools;

/// <summary>The stub's world for users with a username: withheld numbers, BSUIDs on webhooks, sends to a BSUID, number changes.</summary>
public sealed class WhatsAppStubUsernameTests : IDisposable
{
    private const string Sender = "106540352242922";
    private const string Token = "EAAG-token-a";
    private const string Withheld = "16505550111";
    private const string Shared = "16505550112";
    private static readonly TimeSpan WebhookDeadline = TimeSpan.FromSeconds(10);

    private readonly WireMockServer receiver = WireMockServer.Start();
    private readonly WhatsAppStub stub;

    public WhatsAppStubUsernameTests()
    {
        receiver.Given(Request.Create().WithPath("/webhook").UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        stub = new WhatsAppStub(o => o with
        {
            Senders = new Dictionary<string, string> { [Sender] = Token },
            WebhookUrl = new Uri($"{receiver.Url}/webhook"),
            AppSecret = "stub-username-secret",
            WithheldNumbers = new HashSet<string> { Withheld },
            SentAfter = TimeSpan.Zero,
            DeliveredAfter = null,
            ReadAfter = null,
        });
    }

    [Fact]
    public async Task AWithheldNumberComesAsItsBsuidAloneAndASendToThatBsuidReachesThePerson()
    {
        await stub.InboundAsync(Sender, Withheld, "STOP");
        await stub.InboundAsync(Sender, Shared, "hello");

        var inbound = await WaitForValuesAsync(v => v["messages"] is not null, 2);
        var (withheld, shared) = (inbound[0], inbound[1]);
        var userId = withheld["contacts"]![0]!["user_id"]!.GetValue<string>();
        Assert.Matches("^US\\.[0-9]{20}$", userId);
        Assert.Null(withheld["contacts"]![0]!["wa_id"]);
        Assert.Null(withheld["messages"]![0]!["from"]);
        Assert.Equal(Shared, shared["messages"]![0]!["from"]!.GetValue<string>());
        Assert.NotEqual(userId, shared["contacts"]![0]!["user_id"]!.GetValue<string>());

        // A free-form reply to the BSUID is inside the window the person's message opened: sent, with only the BSUID.
        var (status, body) = await SendAsync(new { messaging_product = "whatsapp", recipient = userId, type = "text", text = new { body = "Stopped." } });
        Assert.Equal(HttpStatusCode.OK, status);
        var messageId = body["messages"]![0]!["id"]!.GetValue<string>();
        var sent = (await WaitForValuesAsync(v => v["statuses"]?[0]?["id"]?.GetValue<string>() == messageId, 1))[0]["statuses"]![0]!;
        Assert.Equal(("sent", userId), (sent["status"]!.GetValue<string>(), sent["recipient_user_id"]!.GetValue<string>()));
        Assert.Null(sent["recipient_id"]);
    }

    [Fact]
    public async Task AChangeOfNumberIsPostedAsUserChangedNumber()
    {
        using var client = new HttpClient { BaseAddress = new Uri(stub.Url) };
        var bad = await client.PostAsJsonAsync("/stub/change-number", new { phoneNumberId = Sender, from = Shared, to = Shared });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var answer = await client.PostAsJsonAsync("/stub/change-number", new { phoneNumberId = Sender, from = Shared, to = "16505550199" });

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var message = (await WaitForValuesAsync(v => v["messages"] is not null, 1))[0]["messages"]![0]!;
        Assert.Equal((Shared, "system"), (message["from"]!.GetValue<string>(), message["type"]!.GetValue<string>()));
        Assert.Equal(("user_changed_number", "16505550199"), (message["system"]!["type"]!.GetValue<string>(), message["system"]!["wa_id"]!.GetValue<string>()));
        Assert.Equal((await answer.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>(), message["id"]!.GetValue<string>());
    }

    public void Dispose()
    {
        stub.Dispose();
        receiver.Stop();
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> SendAsync(object message)
    {
        using var client = new HttpClient { BaseAddress = new Uri(stub.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await client.PostAsJsonAsync($"/v23.0/{Sender}/messages", message);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    /// <summary>The <c>value</c> of each webhook POST matching <paramref name="match"/>, in the order posted, once there are <paramref name="count"/>.</summary>
    private Task<List<JsonNode>> WaitForValuesAsync(Func<JsonNode, bool> match, int count) =>
        Eventually.WaitAsync(() => Task.FromResult<List<JsonNode>>([.. receiver.LogEntries
                .Where(e => e.RequestMessage.Path == "/webhook")
                .Select(e => JsonNode.Parse(e.RequestMessage.BodyAsBytes ?? Encoding.UTF8.GetBytes(e.RequestMessage.Body ?? ""))!["entry"]![0]!["changes"]![0]!["value"]!)
                .Where(match)]),
            values => values.Count >= count, WebhookDeadline, $"{count} webhook POST(s)");
}
