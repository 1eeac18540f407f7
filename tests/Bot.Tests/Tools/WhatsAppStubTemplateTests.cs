using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Core.Templates;
using Bot.WhatsAppClient;
using StubServer = Bot.Tools.WhatsAppStub.WhatsAppStubServer;

namespace Bot.Tests.Tools;

/// <summary>The stub's catalog and media, as WhatsApp answers them.</summary>
public sealed class WhatsAppStubTemplateTests : IDisposable
{
    private readonly WhatsAppStub stub = new();
    private readonly HttpClient http;

    public WhatsAppStubTemplateTests()
    {
        http = new HttpClient { BaseAddress = new Uri(stub.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WhatsAppStub.AccessToken);
    }

    public void Dispose()
    {
        http.Dispose();
        stub.Dispose();
    }

    [Fact]
    public async Task TheCatalogIsServedInPagesUntilPagingNextIsAbsent()
    {
        for (var i = 0; i < 7; i++) stub.Catalog.Add(WhatsAppStub.WabaId, $"notice_{i}", "de", "{{1}}");

        var names = new List<string>();
        string? next = $"/v23.0/{WhatsAppStub.WabaId}/message_templates?limit=3";
        var pages = 0;
        while (next is not null)
        {
            var page = (await http.GetFromJsonAsync<JsonObject>(next))!;
            names.AddRange(page["data"]!.AsArray().Select(t => (string)t!["name"]!));
            next = (string?)page["paging"]!["next"];
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"notice_{i}"), names);
    }

    [Fact]
    public async Task TemplateSendsAreCheckedAgainstTheCatalog()
    {
        stub.Catalog.Add(WhatsAppStub.WabaId, "shift_notice", "de", "Schicht {{1}}");

        Assert.Equal(200, await SendAsync("shift_notice", "de", 1));
        Assert.Equal(TemplateErrors.UnknownTemplate, await ErrorOfAsync("shift_notice", "fr", 1));
        Assert.Equal(TemplateErrors.UnknownTemplate, await ErrorOfAsync("other_notice", "de", 1));
        Assert.Equal(TemplateErrors.ParameterCount, await ErrorOfAsync("shift_notice", "de", 2));

        var paused = await http.PostAsJsonAsync(StubServer.TemplatesPath, new { name = "shift_notice", language = "de", status = TemplateStatus.Paused });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Equal(TemplateErrors.Paused, await ErrorOfAsync("shift_notice", "de", 1));
        await http.PostAsJsonAsync(StubServer.TemplatesPath, new { name = "shift_notice", language = "de", status = TemplateStatus.Disabled });
        Assert.Equal(TemplateErrors.Disabled, await ErrorOfAsync("shift_notice", "de", 1));
    }

    [Fact]
    public async Task AnUploadAnswersAMediaId()
    {
        var file = new ByteArrayContent("%PDF-1.7"u8.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        using var form = new MultipartFormDataContent { { new StringContent("whatsapp"), "messaging_product" }, { file, "file", "rules.pdf" } };

        var response = await http.PostAsync($"/v23.0/{WhatsAppStub.PhoneNumberId}/media", form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]));
        Assert.Equal(1, stub.MediaUploads);
    }

    private async Task<int> SendAsync(string name, string language, int parameters) =>
        (int)(await PostSendAsync(name, language, parameters)).StatusCode;

    private async Task<int?> ErrorOfAsync(string name, string language, int parameters)
    {
        using var response = await PostSendAsync(name, language, parameters);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (int?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"];
    }

    private Task<HttpResponseMessage> PostSendAsync(string name, string language, int parameters) =>
        http.PostAsJsonAsync(WhatsAppStub.MessagesPath, new
        {
            messaging_product = "whatsapp",
            to = "+16505551234",
            type = "template",
            template = new
            {
                name,
                language = new { code = language },
                components = new[] { new { type = "body", parameters = Enumerable.Range(0, parameters).Select(i => new { type = "text", text = $"p{i}" }).ToArray() } },
            },
        });
}
