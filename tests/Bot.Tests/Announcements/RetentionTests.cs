using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Webhook.Api;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Tests.Announcements;

/// <summary>Every key has a lifetime: an announcement that ended, and an idempotency key, leave nothing behind in Redis.</summary>
public sealed class RetentionTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task AnEndedAnnouncementAndItsIdempotencyKeyLeaveNothingInRedisAfterTheirRetention()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            // Long enough for the retry below to come before the end's countdown runs out on a busy machine.
            ["Announcements:Retention"] = "00:00:08",
            ["Api:IdempotencyRetention"] = "00:00:02",
            // Delivery records (and their buckets) have a lifetime of their own, from their claim; a retry is accepted
            // while its pass (MaxDispatchAge) would end before the first records expire: 12 s after the start.
            ["Dispatcher:DeliveryRetention"] = "00:00:20",
            ["Dispatcher:MaxDispatchAge"] = "00:00:08",
        });
        var employees = await scenario.AddEmployeesAsync(4);
        scenario.Stub.ForRecipient(employees[0].Phone).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Fire drill at 10" }, idempotencyKey: "drill");
        var kept = await scenario.CreateAnnouncementAsync(new { message = "Not yet", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") });
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, TimeSpan.FromSeconds(30));

        // Ended: its keys count down. A retry brings it back (the countdown stops while it dispatches) and ends it again,
        // with its retry attempts and the retry's idempotency key as well.
        var hashTtl = await scenario.Redis.KeyTimeToLiveAsync(RedisKeys.Announcement(id));
        Assert.True(hashTtl is { } ttl && ttl <= TimeSpan.FromSeconds(8), $"TTL {hashTtl}");
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/api/announcements/{id}/retry") { Content = JsonContent.Create(new { states = new[] { "failed" } }) })
        {
            request.Headers.Add("Idempotency-Key", "retry-drill");
            var retry = await scenario.Api.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, TimeSpan.FromSeconds(30));
        Assert.True(await scenario.Redis.KeyExistsAsync(RedisKeys.Attempts(id)));
        Assert.True(await scenario.Redis.KeyTimeToLiveAsync(RedisKeys.Attempts(id)) is { } attemptsTtl && attemptsTtl <= TimeSpan.FromSeconds(8));
        Assert.True(await scenario.Redis.KeyExistsAsync(IdempotencyStore.Key(scenario.EmployerId, "retry-drill")));
        var server = redis.Connection.GetServers()[0];
        // The scan below sees these: the hash, targets, attempts and the delivery buckets.
        Assert.True(await server.KeysAsync(pattern: $"{scenario.KeyPrefix}*{id}*").CountAsync() >= 4);

        // The idempotency key goes first (2 s), then the announcement (8 s), then its delivery records (20 s from their claim).
        await Eventually.WaitAsync(async () => !await scenario.Redis.KeyExistsAsync(IdempotencyStore.Key(scenario.EmployerId, "retry-drill")),
            TimeSpan.FromSeconds(30), "the idempotency key expired");
        await Eventually.WaitAsync(async () => (await scenario.Api.GetAsync($"/api/announcements/{id}")).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(30), "the announcement gone");
        var list = await scenario.Api.GetFromJsonAsync<JsonNode>("/api/announcements");
        Assert.Equal([kept], list!["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()));
        // The list read took the expired one out of the employer's index.
        var index = await scenario.Redis.SortedSetRangeByRankAsync(RedisKeys.Announcements(scenario.EmployerId));
        Assert.Equal([kept], index.Select(m => ((string)m!)[(((string)m!).IndexOf(':') + 1)..]));

        var left = await Eventually.WaitAsync(
            async () => await server.KeysAsync(pattern: $"{scenario.KeyPrefix}*{id}*").ToListAsync(),
            keys => keys.Count == 0, TimeSpan.FromSeconds(40), $"no key of announcement {id} left");
        Assert.Empty(left);
        Assert.Empty(await server.KeysAsync(pattern: $"{scenario.KeyPrefix}idem:*").ToListAsync());
        // Nor is it queued anywhere.
        foreach (var queue in new[] { RedisKeys.Due("default"), RedisKeys.InFlight("default"), RedisKeys.PendingCreations("default") })
            Assert.Null(await scenario.Redis.SortedSetScoreAsync(queue, id));
        // The scheduled one keeps everything: nothing counts down before an announcement ends.
        Assert.Equal(TimeSpan.Zero, await scenario.Redis.KeyTimeToLiveAsync(RedisKeys.Announcement(kept)) ?? TimeSpan.Zero);
        Assert.True(await scenario.Redis.KeyExistsAsync(RedisKeys.Announcement(kept)));
    }

    [Fact]
    public async Task ACreatesIdempotencyKeyIsRememberedForItsRetentionThenMakesANewAnnouncement()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Api:IdempotencyRetention"] = "00:00:01" });
        var body = new { message = "Quarterly results on Friday", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") };

        var first = await PostAsync(scenario, body, "q3-results");
        var again = await PostAsync(scenario, body, "q3-results");
        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.OK), (first.Status, again.Status));
        Assert.Equal(first.Id, again.Id);

        // Forgotten after a second: the key is new again, and so is the announcement.
        var record = IdempotencyStore.Key(scenario.EmployerId, "announcement\nq3-results");
        Assert.True(await scenario.Redis.KeyTimeToLiveAsync(record) is { } ttl && ttl <= TimeSpan.FromSeconds(1));
        await Eventually.WaitAsync(async () => !await scenario.Redis.KeyExistsAsync(record), TimeSpan.FromSeconds(10), "the key forgotten");
        var later = await PostAsync(scenario, body, "q3-results");
        Assert.Equal(HttpStatusCode.Accepted, later.Status);
        Assert.NotEqual(first.Id, later.Id);
    }

    [Fact]
    public async Task ACancelledSeriesCountsDownWithItsOccurrences()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Announcements:Retention"] = "00:00:30" });
        await scenario.AddEmployeesAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = "Weekly stand-up", sendAt = DateTimeOffset.UtcNow.AddDays(1).ToString("O"),
            recurrence = new { rule = "FREQ=WEEKLY", timeZone = "Europe/Berlin" },
        });
        Assert.Null(await scenario.Redis.KeyTimeToLiveAsync(RedisKeys.Series(id)));

        Assert.Equal(HttpStatusCode.NoContent, (await scenario.Api.DeleteAsync($"/api/announcements/{id}")).StatusCode);

        foreach (var key in new[] { RedisKeys.Series(id), RedisKeys.SeriesOccurrences(id), RedisKeys.Announcement(id), RedisKeys.Targets(id) })
        {
            if (!await scenario.Redis.KeyExistsAsync(key)) continue;
            var ttl = await scenario.Redis.KeyTimeToLiveAsync(key);
            Assert.True(ttl is { } t && t <= TimeSpan.FromSeconds(30), $"{key}: {ttl}");
        }
        Assert.Equal("cancelled", (await scenario.GetAnnouncementAsync(id)).Status);
    }

    private static async Task<(HttpStatusCode Status, string Id)> PostAsync(Scenario scenario, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/announcements") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        var response = await scenario.Api.SendAsync(request);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Announcements:Retention", "00:00:00", "Announcements:Retention must be between")]
    [InlineData("Announcements:Retention", "ninety days", "Announcements:Retention")]
    [InlineData("Api:IdempotencyRetention", "-00:00:01", "Api:IdempotencyRetention must be between")]
    public void AWrongRetentionFailsNamingTheKey(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration)
            .AddAnnouncementStores().AddApiOptions().BuildServiceProvider();

        var error = Assert.ThrowsAny<Exception>(() =>
        {
            _ = services.GetRequiredService<IOptions<AnnouncementOptions>>().Value;
            _ = services.GetRequiredService<IOptions<ApiOptions>>().Value;
        });

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task ARetentionBelowWhatsAppsSevenDaysIsLoggedOnceAsAWarningNamingTheKey()
    {
        var logger = new ListLogger<ShortRetentionWarning>();
        RetentionSetting[] settings =
        [
            new("Announcements:Retention", _ => TimeSpan.FromSeconds(5)),
            new("Api:IdempotencyRetention", _ => TimeSpan.FromDays(7)),
            // Registered by both the stores and the dispatcher in one host: still one line.
            new("Announcements:Retention", _ => TimeSpan.FromSeconds(5)),
        ];
        using var services = new ServiceCollection().BuildServiceProvider();

        await new ShortRetentionWarning(settings, services, logger).StartAsync(CancellationToken.None);

        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Announcements:Retention is 00:00:05", warning.Message);
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public void ShortRetentionsAreAcceptedAndDefaultsAreWhatTheDocsSay()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Announcements:Retention"] = "00:00:01",
            ["Api:IdempotencyRetention"] = "00:00:01",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration)
            .AddAnnouncementStores().AddApiOptions().BuildServiceProvider();
        Assert.Equal(TimeSpan.FromSeconds(1), services.GetRequiredService<IOptions<AnnouncementOptions>>().Value.Retention);
        Assert.Equal(TimeSpan.FromSeconds(1), services.GetRequiredService<IOptions<ApiOptions>>().Value.IdempotencyRetention);
        Assert.Equal(TimeSpan.FromDays(90), new AnnouncementOptions().Retention);
        Assert.Equal(TimeSpan.FromDays(7), new ApiOptions().IdempotencyRetention);
    }
}
