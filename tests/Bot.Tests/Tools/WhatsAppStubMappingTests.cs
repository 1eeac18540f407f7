using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Tools.WhatsAppStub;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Tools;

/// <summary>The shipped stub (tools/WhatsAppStub) started from its JSON mapping files, as run.sh and compose start it.</summary>
public sealed class WhatsAppStubMappingTests : IDisposable
{
    private const string PhoneNumberId = WhatsAppStubServer.PhoneNumberId;
    private static readonly string Mappings = Path.Combine(AppContext.BaseDirectory, "mappings");

    private readonly List<WhatsAppStubServer> servers = [];
    private readonly List<string> folders = [];

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
        Assert.Equal("accepted", first.Body["messages"]![0]!["message_status"]!.GetValue<string>());
        // As long as Meta's, so Redis measured against the stub holds production-sized delivery records.
        Assert.Equal(58, firstId.Length);
    }

    [Fact]
    public async Task TheAcceptMappingFileSetsTheCodeAnswersFields()
    {
        var folder = CopyOfMappings(json =>
        {
            json["Data"]!["messageStatus"] = "held_for_quality_assessment";
            json["Response"]!["StatusCode"] = 201;
        });
        using var client = ClientFor(Start(faults: false, folder));

        var result = await SendAsync(client, "+16505550005");

        Assert.True(WhatsAppStubServer.AnsweredByCode(Path.Combine(folder, "send-message.json")));
        Assert.Equal(HttpStatusCode.Created, result.Status);
        Assert.Equal("held_for_quality_assessment", result.Body!["messages"]![0]!["message_status"]!.GetValue<string>());
    }

    [Fact]
    public async Task WithoutDataAnswerCodeTheMappingsHandlebarsTemplateAnswersTheSameShape()
    {
        var folder = CopyOfMappings(json => json["Data"]!.AsObject().Remove("answer"));
        using var client = ClientFor(Start(faults: false, folder));

        var result = await SendAsync(client, "+16505550006");

        Assert.False(WhatsAppStubServer.AnsweredByCode(Path.Combine(folder, "send-message.json")));
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("+16505550006", result.Body!["contacts"]![0]!["input"]!.GetValue<string>());
        Assert.Equal("16505550006", result.Body["contacts"]![0]!["wa_id"]!.GetValue<string>());
        Assert.StartsWith("wamid.", result.Body["messages"]![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheRequestLogIsCappedWhileTheReceivedCountsKeepEverySend()
    {
        var server = WhatsAppStubServer.Start(new WhatsAppStubOptions { MappingsFolder = Mappings, MaxRequestLogCount = 5 });
        servers.Add(server);
        using var client = ClientFor(server);

        for (var i = 0; i < 20; i++) await SendAsync(client, $"+165055510{i:D2}");
        client.DefaultRequestHeaders.Authorization = null;
        await SendAsync(client, "+16505551099");

        var requests = await client.GetFromJsonAsync<JsonArray>("/__admin/requests");
        var summary = await client.GetFromJsonAsync<JsonObject>(WhatsAppStubServer.ReceivedPath);
        Assert.True(requests!.Count <= 5, $"{requests.Count} requests logged");
        Assert.Equal(21, summary!["requests"]!.GetValue<int>());
        Assert.Equal(20, summary["accepted"]!.GetValue<int>());
        Assert.Equal(1, summary["rejected"]!.GetValue<int>());
        Assert.Equal(20, summary["recipients"]!.GetValue<int>());
        Assert.Equal(1, summary["maxPerRecipient"]!.GetValue<int>());
    }

    [Fact]
    public async Task TheTestsFakeIsTheShippedStubWithItsMappings()
    {
        using var fake = new Bot.Testing.WhatsAppStub();
        using var client = new HttpClient { BaseAddress = new Uri(fake.Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Bot.Testing.WhatsAppStub.AccessToken);

        var result = await SendAsync(client, "+16505550009");

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal(WhatsAppStubServer.PhoneNumberId, Bot.Testing.WhatsAppStub.PhoneNumberId);
        Assert.Contains(fake.Server.Mappings, m => m.Title?.StartsWith("Cloud API: accept a message", StringComparison.Ordinal) == true);
        Assert.Equal(1, fake.Received.AcceptedFor("+16505550009"));
        Assert.Single(fake.Accepted, s => s.To == "+16505550009");
    }

    [Fact]
    public async Task ClearingTheRequestLogStartsTheCountsAgain()
    {
        using var client = ClientFor(Start(faults: false));
        await SendAsync(client, "+16505550007");

        using var cleared = await client.DeleteAsync("/__admin/requests");
        await SendAsync(client, "+16505550008");

        var summary = await client.GetFromJsonAsync<JsonObject>(WhatsAppStubServer.ReceivedPath);
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Equal(1, summary!["accepted"]!.GetValue<int>());
        Assert.Null(summary["byRecipient"]!["+16505550007"]);
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

        var from = services.GetRequiredService<SenderDirectory>().Get(Sender.Default);
        var result = await sender.SendAsync(from, new TextMessage("+16505550002", "hello"));

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
        foreach (var server in servers) server.Dispose();
        foreach (var folder in folders) Directory.Delete(folder, recursive: true);
    }

    private WhatsAppStubServer Start(bool faults, string? mappings = null)
    {
        var server = WhatsAppStubServer.Start(new WhatsAppStubOptions { MappingsFolder = mappings ?? Mappings, Faults = faults });
        servers.Add(server);
        return server;
    }

    /// <summary>The shipped mappings in a folder of their own, send-message.json changed by <paramref name="edit"/>, as a tester would.</summary>
    private string CopyOfMappings(Action<JsonNode> edit)
    {
        var folder = Directory.CreateTempSubdirectory("stub-mappings-").FullName;
        folders.Add(folder);
        foreach (var file in Directory.GetFiles(Mappings, "*.json")) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var accept = Path.Combine(folder, "send-message.json");
        var json = JsonNode.Parse(File.ReadAllText(accept))!;
        edit(json);
        File.WriteAllText(accept, json.ToJsonString());
        return folder;
    }

    private static HttpClient ClientFor(WhatsAppStubServer server)
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
