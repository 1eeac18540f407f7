using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Core.Events;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace Bot.Webhook.Events;

/// <summary>The body an endpoint receives (docs/events.md).</summary>
public sealed record EventBody(string Type, DateTimeOffset Timestamp, EventData Data);

public sealed record EventData(
    string AnnouncementId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EmployeeId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MessageId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

/// <summary>
/// POSTs one event, signed per Standard Webhooks (the StandardWebhooks package) with the endpoint's secret. The secret
/// is unprotected once per stored value (a rotation stores a new one) and its signer kept, as is each endpoint's parsed
/// URL, so an event costs one serialisation, one HMAC and the POST.
/// </summary>
public sealed class EventSender(HttpClient http, IOptionsMonitor<EventsOptions> options, WebhookSecrets secrets, TimeProvider time)
{
    public const string HttpClientName = "events";

    /// <summary>Bounds the caches below (one entry per endpoint and secret in use; rotated ones are dropped wholesale).</summary>
    private const int Cached = 10_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, StandardWebhook> signers = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, Uri> urls = new(StringComparer.Ordinal);

    /// <summary>The body as UTF-8, what is signed and sent.</summary>
    public static byte[] BodyUtf8(OutgoingEvent e)
    {
        // A delivery's state is the last part of its type; the acknowledgement and the announcement events have none.
        var state = e.Type.StartsWith("delivery.", StringComparison.Ordinal) && e.Type != "delivery.acknowledged" ? e.Type["delivery.".Length..] : null;
        return JsonSerializer.SerializeToUtf8Bytes(new EventBody(e.Type, e.At,
            new EventData(e.AnnouncementId, e.EmployeeId, state, e.MessageId, e.Error)), Json);
    }

    /// <summary>The status code of the answer (null when none came: timeout, refused connection) and why it failed.</summary>
    public async Task<(int? StatusCode, string? Error)> SendAsync(EventEndpoint endpoint, OutgoingEvent e, CancellationToken cancellationToken)
    {
        var body = BodyUtf8(e);
        var now = time.GetUtcNow();
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = SignerOf(endpoint.Secret).Sign(e.Id, now, Encoding.UTF8.GetString(body));
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json", "utf-8");
        using var request = new HttpRequestMessage(HttpMethod.Post, UrlOf(endpoint.Url)) { Content = content };
        request.Headers.TryAddWithoutValidation("webhook-id", e.Id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", signature);
        using var timeout = new CancellationTokenSource(options.CurrentValue.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var code = (int)response.StatusCode;
            return (code, code is >= 200 and < 300 ? null : $"HTTP {code}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (null, "timeout");
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>The Standard Webhooks signer of a stored (protected) secret, made once per secret (a rotation stores a new one).</summary>
    private StandardWebhook SignerOf(string stored)
    {
        if (signers.TryGetValue(stored, out var signer)) return signer;
        if (signers.Count >= Cached) signers.Clear();
        return signers[stored] = new StandardWebhook(secrets.Unprotect(stored));
    }

    private Uri UrlOf(string url)
    {
        if (urls.TryGetValue(url, out var uri)) return uri;
        if (urls.Count >= Cached) urls.Clear();
        return urls[url] = new Uri(url, UriKind.Absolute);
    }
}
