using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace Bot.Tests.Harness;

/// <summary>
/// One test's world: a key prefix of its own on the shared Redis (one server or a cluster), a WhatsApp stub, the webhook host for one
/// employer, and any number of dispatcher hosts — all wired by configuration, as in production.
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    public const string ApiKey = "test-api-key-0123456789";
    public const string OtherApiKey = "other-api-key-0123456789";

    private readonly List<IHost> dispatchers = [];
    private readonly AppFactory app;
    private readonly TimeProvider? time;

    /// <param name="time">The clock of every host of this scenario (a FakeTimeProvider the test moves); the system clock by default.</param>
    public Scenario(ISharedRedis redis, IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        this.time = time;
        Redis = redis.Connection.GetDatabase().WithKeyPrefix(KeyPrefix);
        Settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            [RedisKeyspace.ConfigurationKey] = KeyPrefix,
            ["WhatsApp:BaseUrl"] = Stub.Url,
            ["WhatsApp:PhoneNumberId"] = WhatsAppStub.PhoneNumberId,
            ["WhatsApp:AccessToken"] = WhatsAppStub.AccessToken,
            ["WhatsApp:AppSecret"] = "test-app-secret",
            ["WhatsApp:VerifyToken"] = "test-verify-token",
            ["WhatsApp:MessagesPerSecond"] = "1000",
            // Long enough that a busy machine (test classes run in parallel) does not turn a send into unknown.
            ["WhatsApp:Timeout"] = "00:00:05",
            ["Dispatcher:Enabled"] = "false",
            ["Dispatcher:PollInterval"] = "00:00:00.100",
            ["Dispatcher:RetryBaseDelay"] = "00:00:00.050",
            [$"Employers:{EmployerId}:ApiKey"] = ApiKey,
            ["Employers:other:ApiKey"] = OtherApiKey,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) Settings[key] = value;
        app = new AppFactory(Settings, time);
        Api = ClientFor(ApiKey);
    }

    public string EmployerId { get; } = "acme";
    /// <summary>Every key, the wake-up channel and the lock of this scenario's hosts live under it.</summary>
    public string KeyPrefix { get; } = SharedRedis.NewKeyPrefix();

    /// <summary>This scenario's keys, as its hosts see them.</summary>
    public IDatabase Redis { get; }
    public WhatsAppStub Stub { get; } = new();
    public Dictionary<string, string?> Settings { get; }

    /// <summary>The employer API, authenticated as <see cref="EmployerId"/>.</summary>
    public HttpClient Api { get; }

    public IServiceProvider AppServices => app.Services;

    public HttpClient ClientFor(string? apiKey)
    {
        var client = app.CreateClient();
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>Starts dispatcher hosts (as separate Bot.Scheduler replicas would run) with extra settings and parts of a test's own.</summary>
    public async Task<IHost[]> StartDispatchersAsync(int count, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var hosts = Enumerable.Range(0, count).Select(_ => DispatcherHosts.Build(Merge(overrides), time: time, services: services)).ToArray();
        dispatchers.AddRange(hosts);
        await Task.WhenAll(hosts.Select(h => h.StartAsync()));
        return hosts;
    }

    public IHost BuildDispatcher(IDictionary<string, string?>? overrides = null)
    {
        var host = DispatcherHosts.Build(Merge(overrides), time: time);
        dispatchers.Add(host);
        return host;
    }

    /// <summary>Employees e0001… with phones +1650555xxxx, through the import endpoint.</summary>
    public async Task<List<(string Id, string Phone)>> AddEmployeesAsync(int count, int first = 1)
    {
        var rows = Enumerable.Range(first, count).Select(i => ($"e{i:D5}", $"+1650555{i:D4}")).ToList();
        var csv = new StringBuilder("employeeId,phone,name\n");
        foreach (var (id, phone) in rows) csv.Append($"{id},{phone},Employee {id}\n");
        var response = await Api.PostAsync("/api/employees/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        response.EnsureSuccessStatusCode();
        return rows;
    }

    public async Task<string> CreateAnnouncementAsync(object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/announcements") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await Api.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"POST /api/announcements: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<AcceptedBody>())!.Id;
    }

    public async Task<AnnouncementView> GetAnnouncementAsync(string id) =>
        (await Api.GetFromJsonAsync<AnnouncementView>($"/api/announcements/{id}"))!;

    public Task<AnnouncementView> WaitForStatusAsync(string id, string status, TimeSpan timeout) =>
        Eventually.WaitAsync(() => GetAnnouncementAsync(id), a => a.Status == status, timeout, $"announcement {id} {status}");

    public async ValueTask DisposeAsync()
    {
        foreach (var host in dispatchers)
        {
            try
            {
                await host.StopAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
            }
            host.Dispose();
        }
        Api.Dispose();
        await app.DisposeAsync();
        Stub.Dispose();
    }

    private Dictionary<string, string?> Merge(IDictionary<string, string?>? overrides)
    {
        var merged = new Dictionary<string, string?>(Settings) { ["Dispatcher:Enabled"] = "true" };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) merged[key] = value;
        return merged;
    }

    public sealed record AcceptedBody(string Id, string Status, DateTimeOffset SendAt);

    public sealed record AnnouncementView(string Id, string Status, DateTimeOffset SendAt, DateTimeOffset CreatedAt, CountsView Counts);

    public sealed record CountsView(long Targeted, long Sent, long Delivered, long Read, long Failed, long Unknown, long Skipped)
    {
        public long Settled => Sent + Delivered + Read + Failed + Unknown + Skipped;
    }

    private sealed class AppFactory(IDictionary<string, string?> settings, TimeProvider? time) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
            if (time is not null) builder.ConfigureTestServices(services => services.AddSingleton(time));
        }
    }
}
