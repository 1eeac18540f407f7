using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Bot.FaultTests;

/// <summary>
/// The operator API with real processes: two webhook hosts and a dispatcher replica on one Redis, WhatsApp as the stub
/// checking every token. Numbers, employers and keys made at runtime reach every process without a restart.
/// </summary>
public sealed class OperatorTests(ITestOutputHelper output)
{
    private const string AdminKey = "operator-key-0123456789-0123456789-abcdef";
    private const string NewNumber = "200000000000777", NewToken = "EAAG-second-number-token";
    private static readonly TimeSpan Live = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task ASenderEmployerAndKeyMadeAtRuntimeWorkOnEveryProcessAndLeaveNoSecretInRedisOrLogs()
    {
        await using var redis = await RedisServer.StartAsync();
        using var stub = new WhatsAppStub(o => o with
        {
            Senders = new Dictionary<string, string> { [WhatsAppStub.PhoneNumberId] = WhatsAppStub.AccessToken, [NewNumber] = NewToken },
        });
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["WhatsApp:BaseUrl"] = stub.Url,
            ["WhatsApp:PhoneNumberId"] = WhatsAppStub.PhoneNumberId,
            ["WhatsApp:AccessToken"] = WhatsAppStub.AccessToken,
            ["WhatsApp:AppSecret"] = "operator-app-secret",
            ["WhatsApp:VerifyToken"] = "operator-verify-token",
            ["Employers:acme:ApiKey"] = "acme-api-key-0123456789",
            ["Admin:ApiKey"] = AdminKey,
            ["Dispatcher:PollInterval"] = "00:00:00.200",
        };
        await using var dispatcher = HostProcess.StartScheduler(settings);
        await using var hostA = HostProcess.StartWebhook(Ports.Free(), settings);
        await using var hostB = HostProcess.StartWebhook(Ports.Free(), settings);
        using var a = Client(await WebhookProcess.WaitUntilLiveAsync(hostA), AdminKey);
        using var b = Client(await WebhookProcess.WaitUntilLiveAsync(hostB), null);

        // Both hosts warmed up, so the timings below measure propagation, not a first request's start-up.
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.GetAsync("api/employer")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await a.GetAsync("api/employer")).StatusCode);

        // A token WhatsApp refuses: 400 naming it, nothing stored.
        var refused = await a.PutAsJsonAsync("admin/senders/second", new { phoneNumberId = NewNumber, accessToken = "EAAG-wrong" });
        Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{refused.StatusCode} {await refused.Content.ReadAsStringAsync()}\n{string.Join('\n', hostA.Output)}");
        Assert.NotNull((await refused.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!["accessToken"]);
        Assert.Equal(HttpStatusCode.NotFound, (await a.GetAsync("admin/senders/second")).StatusCode);

        var sender = await a.PutAsJsonAsync("admin/senders/second", new { phoneNumberId = NewNumber, accessToken = NewToken, messagesPerSecond = 20 });
        Assert.Equal(HttpStatusCode.Created, sender.StatusCode);
        var view = (await sender.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(($"Stub Business {NewNumber}", "GREEN", "api"), (view["verifiedName"]!.GetValue<string>(), view["qualityRating"]!.GetValue<string>(), view["source"]!.GetValue<string>()));
        Assert.Null(view["accessToken"]);
        var employer = await a.PutAsJsonAsync("admin/employers/globex", new { name = "Globex", sender = "second", timeZone = "Europe/Berlin" });
        Assert.Equal(HttpStatusCode.Created, employer.StatusCode);
        var issued = (await (await a.PostAsJsonAsync("admin/employers/globex/api-keys", new { name = "HR system" })).Content.ReadFromJsonAsync<JsonNode>())!;
        var (keyId, key) = (issued["id"]!.GetValue<string>(), issued["key"]!.GetValue<string>());

        // Host B made none of it: the key works there within 2 s, and an announcement goes out from the new number with its token.
        var stopwatch = Stopwatch.StartNew();
        await Eventually.WaitAsync(async () => (await Send(b, HttpMethod.Put, "api/employees/g1", key, new { phone = "+16505550101" })).IsSuccessStatusCode,
            Live, "the new key accepted by host B");
        output.WriteLine($"new key accepted by host B after {stopwatch.ElapsedMilliseconds} ms");
        var created = await Send(b, HttpMethod.Post, "api/announcements", key, new { message = "Globex all-hands at 3" });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();
        await Eventually.WaitAsync(async () => (await (await Send(b, HttpMethod.Get, $"api/announcements/{id}", key)).Content.ReadFromJsonAsync<JsonNode>())!["status"]!.GetValue<string>(),
            s => s == "completed", TimeSpan.FromSeconds(30), "the new employer's announcement completed");
        var send = stub.Server.LogEntries.Single(e => e.RequestMessage.Method == "POST" && e.RequestMessage.Body!.Contains("Globex all-hands", StringComparison.Ordinal));
        Assert.Equal($"/v23.0/{NewNumber}/messages", send.RequestMessage.Path);
        Assert.Equal($"Bearer {NewToken}", send.RequestMessage.Headers!["Authorization"].ToString());

        // The audit lists every write with its actor; the employer reads its own only.
        var audit = (await a.GetFromJsonAsync<JsonNode>("admin/audit?limit=50"))!["items"]!.AsArray()
            .Select(e => $"{e!["actor"]} {e["action"]} {e["target"]}").Reverse().ToList();
        Assert.Equal(["admin sender.put second", "admin employer.put globex", $"admin apikey.issue {keyId}",
            $"key:{keyId} employee.put g1", $"key:{keyId} announcement.create {id}"], audit);
        var own = (await (await Send(b, HttpMethod.Get, "api/audit", key)).Content.ReadFromJsonAsync<JsonNode>())!["items"]!.AsArray();
        Assert.Equal(4, own.Count);
        Assert.All(own, e => Assert.Equal("globex", e!["employerId"]!.GetValue<string>()));

        // Revoked on host A: refused by both hosts within 2 s.
        Assert.Equal(HttpStatusCode.NoContent, (await a.DeleteAsync($"admin/employers/globex/api-keys/{keyId}")).StatusCode);
        stopwatch.Restart();
        await Eventually.WaitAsync(async () => (await Send(a, HttpMethod.Get, "api/employer", key)).StatusCode == HttpStatusCode.Unauthorized &&
            (await Send(b, HttpMethod.Get, "api/employer", key)).StatusCode == HttpStatusCode.Unauthorized, Live, "the revoked key refused by both hosts");
        output.WriteLine($"revoked key refused by both hosts after {stopwatch.ElapsedMilliseconds} ms");

        var values = await AllValuesAsync(redis.Connection);
        Assert.NotEmpty(values);
        foreach (var secret in new[] { NewToken, key })
        {
            Assert.DoesNotContain(values, v => v.Contains(secret, StringComparison.Ordinal));
            foreach (var process in new[] { dispatcher, hostA, hostB })
                Assert.DoesNotContain(process.Output, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    private static HttpClient Client(string url, string? adminKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(url) };
        if (adminKey is not null) client.DefaultRequestHeaders.Add("X-Admin-Key", adminKey);
        return client;
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string apiKey, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-Api-Key", apiKey);
        return client.SendAsync(request);
    }

    /// <summary>Every value of every key, whatever its type, as text.</summary>
    private static async Task<List<string>> AllValuesAsync(IConnectionMultiplexer redis)
    {
        var db = redis.GetDatabase();
        var values = new List<string>();
        await foreach (var key in redis.GetServers()[0].KeysAsync(pattern: "*"))
        {
            values.Add(key!);
            values.AddRange(await db.KeyTypeAsync(key) switch
            {
                RedisType.String => [(string)(await db.StringGetAsync(key))!],
                RedisType.Hash => (await db.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}"),
                RedisType.List => (await db.ListRangeAsync(key)).Select(v => (string)v!),
                RedisType.Set => (await db.SetMembersAsync(key)).Select(v => (string)v!),
                RedisType.SortedSet => (await db.SortedSetRangeByRankAsync(key)).Select(v => (string)v!),
                RedisType.Stream => (await db.StreamRangeAsync(key)).SelectMany(e => e.Values.Select(v => $"{v.Name}={v.Value}")),
                _ => [],
            });
        }
        return values;
    }
}
