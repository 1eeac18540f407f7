using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Bot.FaultTests;

/// <summary>The built Bot.Webhook as a process, and Meta's side of it: settings, readiness, signed inbound POSTs.</summary>
public static class WebhookProcess
{
    public const string AppSecret = "fault-app-secret";

    public static Dictionary<string, string> Settings(FaultWorld world, IDictionary<string, string>? overrides = null) => world.Settings(new Dictionary<string, string>(overrides ?? new Dictionary<string, string>())
    {
        ["WhatsApp:AppSecret"] = AppSecret,
        ["WhatsApp:VerifyToken"] = "fault-verify-token",
        ["Employers:acme:ApiKey"] = "fault-api-key-0123456789",
        ["Webhook:ClaimAfter"] = "00:00:01",
        ["Webhook:PollInterval"] = "00:00:00.100",
    });

    public static async Task<string> WaitUntilLiveAsync(HostProcess host)
    {
        var url = await Eventually.WaitAsync(() => Task.FromResult(host.Output.Select(l => l.Split("Now listening on: ")).FirstOrDefault(p => p.Length == 2)?[1]),
            u => u is not null || host.HasExited, TimeSpan.FromSeconds(60), "the webhook host listening");
        Assert.False(host.HasExited, string.Join('\n', host.Output));
        return url!.TrimEnd('/') + "/";
    }

    /// <summary>One POST of inbound "hi" messages, shaped and signed like Meta's.</summary>
    public static byte[] InboundTexts(IEnumerable<(string Phone, string MessageId)> messages) =>
        JsonSerializer.SerializeToUtf8Bytes(new
        {
            @object = "whatsapp_business_account",
            entry = new[]
            {
                new
                {
                    id = "102290129340398",
                    changes = new[]
                    {
                        new
                        {
                            field = "messages",
                            value = new
                            {
                                messaging_product = "whatsapp",
                                metadata = new { display_phone_number = "15550783881", phone_number_id = WhatsAppStub.PhoneNumberId },
                                messages = messages.Select(m => new { from = m.Phone.TrimStart('+'), id = m.MessageId, timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), type = "text", text = new { body = "hi" } }),
                            },
                        },
                    },
                },
            },
        });

    public static HttpRequestMessage Signed(string url, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url + "webhook") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), body)));
        return request;
    }
}
