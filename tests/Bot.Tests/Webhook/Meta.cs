using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bot.Core.Redis;
using Bot.Tests.Harness;

namespace Bot.Tests.Webhook;

/// <summary>Plays Meta's side of the webhook: payloads shaped exactly like docs/whatsapp.md's samples, signed with the app secret.</summary>
public static class Meta
{
    public const string AppSecret = "test-app-secret";
    public const string VerifyToken = "test-verify-token";

    public static string NewMessageId() => "wamid.HBgL" + Convert.ToBase64String(Guid.NewGuid().ToByteArray());

    public static string WaId(string phone) => phone.TrimStart('+');

    /// <summary>The inbound text message sample: <c>entry[].changes[].value.messages[]</c>.</summary>
    public static byte[] InboundText(string fromPhone, string body, string? messageId = null, string? toPhoneNumberId = null) =>
        InboundTexts([(fromPhone, body, messageId ?? NewMessageId())], toPhoneNumberId);

    /// <summary>Several inbound text messages in one POST, as Meta batches them (up to 1,000).</summary>
    /// <param name="toPhoneNumberId">The business number written to (the sender <c>default</c>'s when null).</param>
    public static byte[] InboundTexts(IReadOnlyList<(string FromPhone, string Body, string MessageId)> messages, string? toPhoneNumberId = null) =>
        Envelope(new Dictionary<string, object?>
        {
            ["contacts"] = messages.Select(m => new { profile = new { name = "Sheena Nelson" }, wa_id = WaId(m.FromPhone) }).ToArray(),
            ["messages"] = messages.Select(m => new { from = WaId(m.FromPhone), id = m.MessageId, timestamp = Now(), type = "text", text = new { body = m.Body } }).ToArray(),
        }, toPhoneNumberId);

    private static string Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The status update sample: <c>value.statuses[]</c>.</summary>
    public static byte[] Statuses(params object[] statuses) => Envelope(new Dictionary<string, object?> { ["statuses"] = statuses });

    public static object Status(string messageId, string status, string recipientPhone, string? callbackData, int? errorCode = null)
    {
        var s = new Dictionary<string, object?>
        {
            ["id"] = messageId,
            ["status"] = status,
            ["timestamp"] = "1751142888",
            ["recipient_id"] = WaId(recipientPhone),
        };
        if (callbackData is not null) s["biz_opaque_callback_data"] = callbackData;
        if (status == "sent")
        {
            s["conversation"] = new { id = "CONVERSATION_ID", expiration_timestamp = "1751229288", origin = new { type = "marketing" } };
            s["pricing"] = new { billable = true, pricing_model = "PMP", category = "marketing" };
        }
        if (errorCode is { } code)
        {
            s["errors"] = new[]
            {
                new { code, title = "Message undeliverable.", message = "Message undeliverable.", error_data = new { details = "Message Undeliverable." } },
            };
        }
        return s;
    }

    public static byte[] Envelope(Dictionary<string, object?> value, string? phoneNumberId = null)
    {
        var full = new Dictionary<string, object?>
        {
            ["messaging_product"] = "whatsapp",
            ["metadata"] = new { display_phone_number = "15550783881", phone_number_id = phoneNumberId ?? WhatsAppStub.PhoneNumberId },
        };
        foreach (var (k, v) in value) full[k] = v;
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            @object = "whatsapp_business_account",
            entry = new[] { new { id = "102290129340398", changes = new[] { new { field = "messages", value = full } } } },
        });
    }

    public static string Sign(byte[] body, string secret = AppSecret, bool upperCase = false)
    {
        var hex = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        return "sha256=" + (upperCase ? hex.ToUpperInvariant() : hex);
    }

    /// <summary>POSTs <paramref name="body"/> to /webhook with <paramref name="signature"/> (null: no header).</summary>
    public static async Task<HttpResponseMessage> PostAsync(this Scenario scenario, byte[] body, string? signature)
    {
        using var client = scenario.ClientFor(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (signature is not null) request.Headers.Add("X-Hub-Signature-256", signature);
        return await client.SendAsync(request);
    }

    /// <summary>POSTs a correctly signed body, expects 200, and waits until the inbox has processed it (replies may
    /// still be on their way out).</summary>
    public static async Task DeliverAsync(this Scenario scenario, byte[] body)
    {
        await scenario.DeliverWithoutWaitingAsync(body);
        await scenario.WaitForInboxProcessedAsync();
    }

    /// <summary>POSTs a correctly signed body and expects 200, without waiting for it to be processed.</summary>
    public static async Task DeliverWithoutWaitingAsync(this Scenario scenario, byte[] body)
    {
        var response = await scenario.PostAsync(body, Sign(body));
        Assert.True(response.IsSuccessStatusCode, $"POST /webhook: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Processed entries are deleted from the inbox stream: empty means every POST so far was applied.</summary>
    public static Task WaitForInboxProcessedAsync(this Scenario scenario) =>
        Eventually.WaitAsync(async () => await scenario.Redis.StreamLengthAsync(RedisKeys.WebhookInbox) == 0,
            TimeSpan.FromSeconds(20), "the webhook inbox processed");

    public static Task<IReadOnlyList<ObservedSend>> WaitForSendsToAsync(this Scenario scenario, string phone, int count) =>
        Eventually.WaitAsync(() => Task.FromResult<IReadOnlyList<ObservedSend>>([.. scenario.Stub.Sends.Where(s => s.To == phone)]),
            sends => sends.Count >= count, TimeSpan.FromSeconds(10), $"{count} message(s) to {phone}");

    public static async Task<EmployeeView> GetEmployeeAsync(this Scenario scenario, string employeeId, HttpClient? api = null) =>
        (await (api ?? scenario.Api).GetFromJsonAsync<EmployeeView>($"/api/employees/{employeeId}"))!;

    public static async Task<List<DeliveryView>> GetDeliveriesAsync(this Scenario scenario, string announcementId, string? state = null)
    {
        var items = new List<DeliveryView>();
        string? cursor = null;
        do
        {
            var url = $"/api/announcements/{announcementId}/deliveries?limit=500" + (state is null ? "" : $"&state={state}") + (cursor is null ? "" : $"&cursor={cursor}");
            var page = (await scenario.Api.GetFromJsonAsync<DeliveryPage>(url))!;
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);
        return items;
    }

    public sealed record EmployeeView(string EmployeeId, string Phone, string? Name, string Status, DateTimeOffset UpdatedAt);

    public sealed record DeliveryPage(List<DeliveryView> Items, string? NextCursor);

    public sealed record DeliveryView(string EmployeeId, string State, string? MessageId, string? Error, string? Form = null, string? Language = null);

    public sealed record JoinCodeView(string Code, DateTimeOffset ExpiresAt);
}
