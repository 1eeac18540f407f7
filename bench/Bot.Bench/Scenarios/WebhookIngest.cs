using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Bot.Core.Deliveries;
using Bot.Tools.WhatsAppStub;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 6: signed status webhooks ('delivered') for the deliveries scenario 1 sent, single and 100 per POST; then
/// POSTs of 1,000 inbound messages each. Every POST is answered once its body is in the inbox, so the POST figures
/// measure the answer Meta sees; how long the inbox workers and the reply outbox take is measured after it.
/// </summary>
public static class WebhookIngest
{
    public static async Task RunAsync(BenchWorld world, ScenarioResult result, FanOutRun.Run? fannedOut)
    {
        if (world.Webhook.Url is null || !world.Webhook.HasWebhookRoute)
        {
            result.Notes.Add($"not measured: {world.Webhook.Problem ?? "POST /webhook does not exist in this build"}");
            return;
        }
        if (fannedOut is not { } source) throw new InvalidOperationException("needs the deliveries of scenario 1");
        const int warmUp = 500;
        var singles = world.Options.WebhookSingles;
        var batchSize = world.Options.WebhookBatchSize;
        var batches = world.Options.WebhookBatches;
        var needed = warmUp + singles + batches * batchSize;
        if (needed > source.Employees)
        {
            singles = Math.Min(singles, (source.Employees - warmUp) / 2);
            batches = (source.Employees - warmUp - singles) / batchSize;
            needed = warmUp + singles + batches * batchSize;
        }
        result.Settings["load"] = $"{world.Options.WebhookConcurrency} concurrent keep-alive connections on loopback, closed loop; statuses 'delivered' for 'sent' deliveries of scenario 1";
        result.Settings["singles"] = $"{singles} POSTs × 1 status (after {warmUp} warm-up POSTs)";
        result.Settings["batches"] = $"{batches} POSTs × {batchSize} statuses";

        var stores = BenchWorld.Stores(world.Redis);
        var ids = Enumerable.Range(0, needed).Select(BenchWorld.EmployeeId).ToArray();
        var records = new List<DeliveryRecord?>();
        foreach (var chunk in ids.Chunk(1000)) records.AddRange(await stores.Deliveries.GetManyAsync(source.AnnouncementId, chunk));
        var statuses = ids.Select((employee, i) => Status(source.AnnouncementId, employee, records[i]?.MessageId ?? "")).ToArray();

        var warm = statuses[..warmUp].Select(s => Payload([s])).ToList();
        var single = statuses[warmUp..(warmUp + singles)].Select(s => Payload([s])).ToList();
        var batched = statuses[(warmUp + singles)..].Chunk(batchSize).Select(Payload).ToList();
        var deliveredBefore = (await stores.Announcements.CountsAsync(source.AnnouncementId)).Delivered;

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = world.Options.WebhookConcurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(world.Webhook.Url) };
        await PostAllAsync(world.Options.WebhookConcurrency, client, warm);
        var one = await PostAllAsync(world.Options.WebhookConcurrency, client, single);
        var hundred = await PostAllAsync(world.Options.WebhookConcurrency, client, batched);

        result.Add("single-status POSTs/s", one.PerSecond, "/s", "≥ 3,000/s", one.PerSecond >= 3_000);
        result.Add("single-status POST p50", one.P50, "ms");
        result.Add("single-status POST p99", one.P99, "ms", "≤ 20 ms", one.P99 <= 20);
        result.Add("100-status POSTs/s", hundred.PerSecond, "/s");
        result.Add("100-status POSTs: statuses/s", hundred.PerSecond * batchSize, "/s");
        result.Add("100-status POST p50", hundred.P50, "ms");
        result.Add("100-status POST p99", hundred.P99, "ms");
        var posted = Stopwatch.GetTimestamp();
        var applied = 0L;
        while (applied < needed && Stopwatch.GetElapsedTime(posted) < TimeSpan.FromSeconds(60))
        {
            applied = (await stores.Announcements.CountsAsync(source.AnnouncementId)).Delivered - deliveredBefore;
            if (applied < needed) await Task.Delay(20);
        }
        result.Add("all statuses applied, after the last POST's 200", Stopwatch.GetElapsedTime(posted).TotalMilliseconds, "ms");
        result.Require("every POST answered 200", one.Failures + hundred.Failures == 0, $"{one.Failures + hundred.Failures} non-200 answers");
        result.Require("every status applied", applied == needed, $"delivered count +{applied} for {needed} statuses");

        await InboundMessagesAsync(world, result, client, source.Employees);
    }

    /// <summary>POSTs of 1,000 "hi" messages each, one at a time as Meta batches them; each gets one reply through the outbox.</summary>
    private static async Task InboundMessagesAsync(BenchWorld world, ScenarioResult result, HttpClient client, int employees)
    {
        const int perPost = 1000;
        var posts = Math.Min(world.Options.WebhookMessagePosts, employees / perPost);
        result.Settings["messages"] = $"{posts} POSTs × {perPost} inbound messages, one POST at a time; replies at up to 1,000/s";
        var repliesBefore = world.WhatsApp.Count;
        var payloads = Enumerable.Range(0, posts)
            .Select(p => Messages([.. Enumerable.Range(p * perPost, perPost).Select(BenchWorld.EmployeeId)], p)).ToList();
        var answers = await PostAllAsync(1, client, payloads);
        var posted = Stopwatch.GetTimestamp();
        var expected = posts * perPost;
        while (world.WhatsApp.Count - repliesBefore < expected && Stopwatch.GetElapsedTime(posted) < TimeSpan.FromSeconds(120))
            await Task.Delay(20);
        var replies = world.WhatsApp.Count - repliesBefore;

        result.Add("1,000-message POST p50", answers.P50, "ms");
        result.Add("1,000-message POST max", answers.P99, "ms", "≤ 1,000 ms", answers.P99 <= 1000);
        result.Add("all replies sent, after the last POST's 200", Stopwatch.GetElapsedTime(posted).TotalMilliseconds, "ms");
        result.Require("every 1,000-message POST answered 200", answers.Failures == 0, $"{answers.Failures} non-200 answers");
        result.Require("one reply per inbound message", replies == expected, $"{replies} replies for {expected} messages");
    }

    private static (byte[] Body, string Signature) Messages(string[] employeeIds, int post)
    {
        var messages = employeeIds.Select((e, i) =>
            $$$"""{"from":"{{{BenchWorld.Phone(e)[1..]}}}","id":"wamid.bench{{{post:D3}}}x{{{i:D4}}}","timestamp":"{{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}}","type":"text","text":{"body":"hi"}}""");
        return Signed($$$"""{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000000","phone_number_id":"{{{WhatsAppStubServer.PhoneNumberId}}}"},"messages":[{{{string.Join(',', messages)}}}]}}]}]}""");
    }

    private static (string Id, string Body) Status(string announcementId, string employeeId, string messageId) =>
        (messageId, $$"""{"id":"{{messageId}}","status":"delivered","timestamp":"{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}","recipient_id":"{{BenchWorld.Phone(employeeId)[1..]}}","biz_opaque_callback_data":"{{announcementId}}:{{employeeId}}"}""");

    private static (byte[] Body, string Signature) Payload((string Id, string Body)[] statuses) =>
        Signed($$$"""{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000000","phone_number_id":"{{{WhatsAppStubServer.PhoneNumberId}}}"},"statuses":[{{{string.Join(',', statuses.Select(s => s.Body))}}}]}}]}]}""");

    private static (byte[] Body, string Signature) Signed(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return (body, "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(BenchWorld.AppSecret), body)));
    }

    private sealed record LoadResult(double PerSecond, double P50, double P99, int Failures);

    private static async Task<LoadResult> PostAllAsync(int concurrency, HttpClient client, List<(byte[] Body, string Signature)> payloads)
    {
        var latencies = new double[payloads.Count];
        var failures = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < payloads.Count)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook") { Content = new ByteArrayContent(payloads[i].Body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add("X-Hub-Signature-256", payloads[i].Signature);
                var started = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(request);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new LoadResult(payloads.Count / elapsed, Stats.Percentile(latencies, 0.5), Stats.Percentile(latencies, 0.99), failures);
    }
}
