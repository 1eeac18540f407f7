using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Tools.WhatsAppStub;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Server;

namespace Bot.Tests.Tools;

/// <summary>The shipped stub (tools/WhatsAppStub) started from its JSON mapping files, as run.sh and compose start it.</summary>
public sealed class WhatsAppStubMappingTests : IDisposable
{
    private const string PhoneNumberId = "106540352242922";
    private static readonly string Mappings = Path.Combine(AppContext.BaseDirectory, "mappings");

    private readonly List<WireMockServer> servers = [];

    [Fact]
    public async Task SendIsAcceptedWithAFreshWamidAndTheRecipientEchoed()
    {
        using var client = ClientFor(Start(faults: false));

        var first = await SendAsync(client, "+16505550001");
        var second = await SendAsync(client, "+16505550001");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        var firstId = first.Body!["messages"]![0]!["id"]!.GetValue<string>();
        var secondId = second.Body!["messages"]![0]!["id"]!.GetValue<string>();
        Assert.StartsWith("wamid.", firstId);
        Assert.NotEqual(firstId, secondId);
        Assert.Equal("+16505550001", first.Body["contacts"]![0]!["input"]!.GetValue<string>());
        Assert.Equal("16505550001", first.Body["contacts"]![0]!["wa_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task OurClientParsesTheStubsAnswer()
    {
        var server = Start(faults: false);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WhatsApp:BaseUrl"] = server.Url,
            ["WhatsApp:PhoneNumberId"] = PhoneNumberId,
            ["WhatsApp:AccessToken"] = "stub-token",
        }).Build();
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddWhatsAppClient()
            .BuildServiceProvider();
        var sender = services.GetRequiredService<IWhatsAppSender>();

        var result = await sender.SendAsync(new TextMessage("+16505550002", "hello"));

        Assert.Equal(SendOutcome.Accepted, result.Outcome);
        Assert.StartsWith("wamid.", result.MessageId);
    }

    [Fact]
    public async Task ReceivedSummaryCountsAcceptedMessagesPerRecipient()
    {
        using var client = ClientFor(Start(faults: false));
        await SendAsync(client, "+16505550001");
        await SendAsync(client, "+16505550002");
        await SendAsync(client, "+16505550002");

        var summary = await client.GetFromJsonAsync<JsonObject>(WhatsAppStubServer.ReceivedPath);

        Assert.Equal(3, summary!["accepted"]!.GetValue<int>());
        Assert.Equal(1, summary["byRecipient"]!["+16505550001"]!.GetValue<int>());
        Assert.Equal(2, summary["byRecipient"]!["+16505550002"]!.GetValue<int>());
    }

    [Fact]
    public async Task AdminInterfaceListsReceivedRequests()
    {
        using var client = ClientFor(Start(faults: false));
        await SendAsync(client, "+16505550003");

        var requests = await client.GetFromJsonAsync<JsonArray>("/__admin/requests");

        Assert.Contains(requests!, r => r!["Request"]!["Path"]!.GetValue<string>() == $"/v23.0/{PhoneNumberId}/messages");
    }

    [Fact]
    public async Task WithoutABearerTokenTheStubAnswers401()
    {
        using var client = ClientFor(Start(faults: false));
        client.DefaultRequestHeaders.Authorization = null;

        var result = await SendAsync(client, "+16505550004");

        Assert.Equal(HttpStatusCode.Unauthorized, result.Status);
        Assert.Equal(190, result.Body!["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task FaultMappingsAreOffByDefaultAndOnWithTheFlag()
    {
        using var plain = ClientFor(Start(faults: false));
        using var faulty = ClientFor(Start(faults: true));

        var accepted = await SendAsync(plain, "+16505551026");
        var undeliverable = await SendAsync(faulty, "+16505551026");

        Assert.Equal(HttpStatusCode.OK, accepted.Status);
        Assert.Equal(HttpStatusCode.BadRequest, undeliverable.Status);
        Assert.Equal(131026, undeliverable.Body!["error"]!["code"]!.GetValue<int>());
        Assert.Contains(WhatsAppStubServer.MappingFiles(Mappings, faults: true), f => f.EndsWith("rate-limit-429.json", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        foreach (var server in servers) server.Stop();
    }

    private WireMockServer Start(bool faults)
    {
        var server = WhatsAppStubServer.Start(port: 0, Mappings, faults);
        servers.Add(server);
        return server;
    }

    private static HttpClient ClientFor(WireMockServer server)
    {
        var client = new HttpClient { BaseAddress = new Uri(server.Url!) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "stub-token");
        return client;
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, string to)
    {
        var response = await client.PostAsJsonAsync($"/v23.0/{PhoneNumberId}/messages",
            new { messaging_product = "whatsapp", recipient_type = "individual", to, type = "text", text = new { body = "hi" } });
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync()));
    }
}
