using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Bot.Tools.WhatsAppStub.World;

/// <summary>
/// Posts webhook updates when they are due, signed like Meta (<c>X-Hub-Signature-256</c>). Every status due at a tick
/// goes in one POST per phone number id (at most <see cref="MaxStatusesPerPost"/>, as Meta batches); an inbound
/// message goes alone. A POST that fails is tried again at once, then after 1 s and 5 s, then dropped with a log line:
/// the stub must outlive a webhook host that is down or not started yet.
/// </summary>
internal sealed partial class WebhookPoster : IDisposable
{
    public const int MaxStatusesPerPost = 1000;
    public const string SignatureHeader = "X-Hub-Signature-256";

    // Short enough that a status is late by at most this; long enough that a busy send burst batches its statuses.
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan[] RetryAfter = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

    private readonly Lock gate = new();
    // Ordered by due time, then by arrival, so sent/delivered/read due at one instant keep their order in the POST.
    private readonly PriorityQueue<WebhookUpdate, (DateTimeOffset Due, long Order)> pending = new();
    private long arrivals;

    private readonly Uri url;
    private readonly byte[] appSecret;
    private readonly string wabaId;
    private readonly string displayPhoneNumber;
    private readonly TimeProvider time;
    private readonly ReceivedCounts counts;
    private readonly ILogger logger;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;

    public WebhookPoster(WhatsAppStubOptions options, ReceivedCounts counts, ILogger logger)
    {
        url = options.WebhookUrl!;
        appSecret = System.Text.Encoding.UTF8.GetBytes(options.AppSecret!);
        wabaId = options.WabaId;
        displayPhoneNumber = options.DisplayPhoneNumber;
        time = options.Time;
        this.counts = counts;
        this.logger = logger;
        loop = RunAsync(stopping.Token);
    }

    /// <summary>Meta's signature of <paramref name="body"/>: <c>sha256=</c> and the lowercase hex HMAC-SHA256 keyed with the app secret.</summary>
    public static string Sign(ReadOnlySpan<byte> body, ReadOnlySpan<byte> appSecret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(appSecret, body));

    public void Enqueue(WebhookUpdate update, DateTimeOffset due)
    {
        lock (gate) pending.Enqueue(update, (due, arrivals++));
    }

    public void Dispose()
    {
        stopping.Cancel();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled mid-POST: nothing left to do.
        }

        http.Dispose();
        stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Tick, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await PostDueAsync(stop);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One bad tick must not end the loop: the stub would silently stop sending statuses.
                    LogTickFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task PostDueAsync(CancellationToken stop)
    {
        var now = time.GetUtcNow();
        List<WebhookUpdate> due = [];
        lock (gate)
        {
            while (pending.TryPeek(out _, out var priority) && priority.Due <= now) due.Add(pending.Dequeue());
        }

        foreach (var bySender in due.GroupBy(u => u.PhoneNumberId))
        {
            foreach (var statuses in bySender.OfType<StatusUpdate>().Chunk(MaxStatusesPerPost))
            {
                await PostAsync(statuses, bySender.Key, json => WriteStatuses(json, statuses), stop);
            }

            foreach (var inbound in bySender.OfType<InboundUpdate>())
            {
                await PostAsync([inbound], bySender.Key, inbound.WriteValueFields, stop);
            }
        }
    }

    private static void WriteStatuses(Utf8JsonWriter json, StatusUpdate[] statuses)
    {
        json.WriteStartArray("statuses");
        foreach (var status in statuses) status.Write(json);
        json.WriteEndArray();
    }

    private async Task PostAsync(IReadOnlyList<WebhookUpdate> updates, string phoneNumberId, Action<Utf8JsonWriter> writeValue, CancellationToken stop)
    {
        var body = Envelope(phoneNumberId, writeValue);
        string failure;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Add(SignatureHeader, Sign(body, appSecret));
            using var response = await http.SendAsync(request, stop);
            if (response.IsSuccessStatusCode)
            {
                counts.AddWebhookPost(updates.Count);
                return;
            }

            failure = $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stop.IsCancellationRequested)
        {
            failure = ex.GetType().Name;
        }

        var attempts = updates[0].FailedAttempts + 1;
        if (attempts > RetryAfter.Length)
        {
            counts.AddWebhookDropped(updates.Count);
            LogDropped(updates.Count, url, attempts, failure);
            return;
        }

        var retryAt = time.GetUtcNow() + RetryAfter[attempts - 1];
        foreach (var update in updates) Enqueue(update with { FailedAttempts = attempts }, retryAt);
    }

    private byte[] Envelope(string phoneNumberId, Action<Utf8JsonWriter> writeValue)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = StubJson.Options.Encoder }))
        {
            json.WriteStartObject();
            json.WriteString("object", "whatsapp_business_account");
            json.WriteStartArray("entry");
            json.WriteStartObject();
            json.WriteString("id", wabaId);
            json.WriteStartArray("changes");
            json.WriteStartObject();
            json.WriteString("field", "messages");
            json.WriteStartObject("value");
            json.WriteString("messaging_product", "whatsapp");
            json.WriteStartObject("metadata");
            json.WriteString("display_phone_number", displayPhoneNumber);
            json.WriteString("phone_number_id", phoneNumberId);
            json.WriteEndObject();
            writeValue(json);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    [LoggerMessage(LogLevel.Warning, "Webhook POST to {Url} failed {Attempts} times (last: {Failure}); dropped {Count} update(s)")]
    private partial void LogDropped(int count, Uri url, int attempts, string failure);

    [LoggerMessage(LogLevel.Error, "Webhook poster: a tick failed; the next one goes on")]
    private partial void LogTickFailed(Exception ex);
}
