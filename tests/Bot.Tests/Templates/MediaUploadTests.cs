using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Bot.Core.Media;
using Bot.Tests.Harness;

namespace Bot.Tests.Templates;

public sealed class MediaUploadTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly byte[] Pdf = [.. "%PDF-1.7\n"u8, .. Enumerable.Range(0, 200_000).Select(i => (byte)(i * 31))];

    private static MultipartFormDataContent File(byte[] bytes, string contentType, string name)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { file, "file", name } };
    }

    [Fact]
    public async Task APdfPostedTwiceIsUploadedOnce()
    {
        await using var scenario = new Scenario(redis);

        var first = await scenario.Api.PostAsync("/api/media", File(Pdf, "application/pdf", "rules.pdf"));
        var raw = new ByteArrayContent(Pdf);
        raw.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        var second = await scenario.Api.PostAsync("/api/media", raw);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var uploaded = (await first.Content.ReadFromJsonAsync<MediaInfo>())!;
        Assert.Equal(uploaded, await second.Content.ReadFromJsonAsync<MediaInfo>());
        Assert.Equal(("application/pdf", Pdf.LongLength, "rules.pdf"), (uploaded.ContentType, uploaded.Size, uploaded.FileName));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Pdf)), uploaded.Sha256);
        Assert.Equal(1, scenario.Stub.MediaUploads);

        // Its id is what an announcement sends, with the message as its caption: one upload for a hundred sends.
        var employees = await scenario.AddEmployeesAsync(100);
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "The new safety rules", media = new { id = uploaded.Id } });
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(60));

        Assert.Equal(100, done.Counts.Sent);
        Assert.Equal(1, scenario.Stub.MediaUploads);
        Assert.All(employees, e =>
        {
            var body = Assert.Single(scenario.Stub.Accepted, s => s.To == e.Phone).Body;
            Assert.Equal(("document", uploaded.Id, "The new safety rules", "rules.pdf"), ((string?)body["type"], (string?)body["document"]?["id"],
                (string?)body["document"]?["caption"], (string?)body["document"]?["filename"]));
        });
    }

    [Fact]
    public async Task AFileOverWhatsAppsSizeIs413AndAnotherTypeIs415()
    {
        await using var scenario = new Scenario(redis);
        var image = new byte[(int)Bot.WhatsAppClient.MediaRef.MaxBytes(Bot.WhatsAppClient.MediaKind.Image) + 1];

        var oversize = await scenario.Api.PostAsync("/api/media", File(image, "image/png", "poster.png"));
        var text = new ByteArrayContent("hello"u8.ToArray());
        text.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        var wrongType = await scenario.Api.PostAsync("/api/media", text);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversize.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, scenario.Stub.MediaUploads);
    }
}
