using System.Globalization;
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

/// <summary>POSTs one event, signed per Standard Webhooks with the endpoint's secret.</summary>
public sealed class EventSender(HttpClient http, IOptionsMonitor<EventsOptions> options, WebhookSecrets secrets, TimeProvider time)
{
    public const string HttpClientName = "events";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Body(OutgoingEvent e)
    {
        // A delivery's state is the last part of its type; the acknowledgement and the announcement events have none.
        var state = e.Type.StartsWith("delivery.", StringComparison.Ordinal) && e.Type != "delivery.acknowledged" ? e.Type["delivery.".Length..] : null;
        return JsonSerializer.Serialize(new EventBody(e.Type, e.At,
            new EventData(e.AnnouncementId, e.EmployeeId, state, e.MessageId, e.Error)), Json);
    }

    /// <summary>The status code of the answer (null when none came: timeout, refused connection) and why it failed.</summary>
    public async Task<(int? StatusCode, string? Error)> SendAsync(EventEndpoint endpoint, OutgoingEvent e, CancellationToken cancellationToken)
    {
        var body = Body(e);
        var now = time.GetUtcNow();
        var signature = new StandardWebhook(secrets.Unprotect(endpoint.Secret)).Sign(e.Id, now, body);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", e.Id);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", signature);
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
}
