using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WireMock.ResponseBuilders;

namespace Bot.Tests.Hosting;

/// <summary>
/// Everything the webhook host and a dispatcher host log at Debug — messages, structured values, scopes and
/// exceptions — during a dispatch and a webhook round trip: phone numbers only masked, secrets never.
/// </summary>
public sealed class LogRedactionTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, string?> DebugEverywhere = new()
    {
        ["Logging:LogLevel:Default"] = "Debug",
        ["Logging:LogLevel:Microsoft"] = "Debug",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Debug",
        ["Logging:LogLevel:System"] = "Debug",
    };

    [Fact]
    public async Task DispatchAndWebhookRoundTripLogNoFullPhoneNumberAndNoSecret()
    {
        var logs = new CapturedLogs();
        // The scenario's own host takes no inbox work: the webhook POSTs are applied, and answered, by the host whose
        // logs this test reads.
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Webhook:ProcessInbox"] = "false" });
        var settings = new Dictionary<string, string?>(scenario.Settings) { ["Webhook:ProcessInbox"] = "true" };
        foreach (var (key, value) in DebugEverywhere) settings[key] = value;
        await using var app = new WebhookHost(settings, logs.Provider("webhook"));
        using var api = app.ClientFor(Scenario.ApiKey);

        // Four employees (typed the way people type numbers), a fifth by CSV; one number WhatsApp refuses with a
        // Graph error that echoes it, one whose answer is a bare 500 (unknown outcome).
        string[] phones = ["+16505557101", "+16505557102", "+16505557103", "+16505557104", "+16505557105"];
        for (var i = 0; i < 4; i++)
        {
            var put = await api.PutAsJsonAsync($"/api/employees/e{i + 1}", new { phone = $"+1 650 555 {phones[i][^4..]}", name = $"Employee {i + 1}" });
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        var import = await api.PostAsync("/api/employees/import",
            new StringContent($"employeeId,phone,name\ne5,{phones[4]},Employee 5\ne6,nope,Nobody\n", System.Text.Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, import.StatusCode);
        scenario.Stub.ForRecipient(phones[2]).RespondWith(
            WhatsAppStub.GraphError(400, 131026, $"Message undeliverable: {phones[2]} ({Meta.WaId(phones[2])}) is not on WhatsApp"));
        scenario.Stub.ForRecipient(phones[3]).RespondWith(Response.Create().WithStatusCode(500));

        // Act 1: a dispatch by a standalone dispatcher host (probe and metrics on).
        using var dispatcher = StandaloneDispatcher(scenario.Settings, logs.Provider("dispatcher"));
        await dispatcher.StartAsync();
        var created = await api.PostAsJsonAsync("/api/announcements", new { message = "Our end of year party is on Saturday evening!" });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;
        await Eventually.WaitAsync(async () => (await api.GetFromJsonAsync<Scenario.AnnouncementView>($"/api/announcements/{id}"))!,
            a => a.Status == "completed", Timeout, $"announcement {id} completed");

        // Act 2: the webhook round trip. Statuses (with and without callback data, one failed), then employees talking.
        var sends = scenario.Stub.Accepted;
        await app.DeliverAsync(Meta.Statuses([
            .. sends.Select(s => Meta.Status(Meta.NewMessageId(), "delivered", s.To, s.CallbackData)),
            Meta.Status(Meta.NewMessageId(), "read", phones[0], null),
            Meta.Status(Meta.NewMessageId(), "failed", phones[1], $"{id}:e2", errorCode: 131049),
        ]));
        await app.DeliverAsync(Meta.InboundText(phones[0], "STOP"));
        await app.DeliverAsync(Meta.InboundText(phones[0], "START"));
        var joinCode = await (await api.PostAsync("/api/employees/e2/join-code", null)).Content.ReadFromJsonAsync<Meta.JoinCodeView>();
        const string newPhone = "+16505557199", stranger = "+447700900123";
        await app.DeliverAsync(Meta.InboundText(newPhone, $"JOIN {joinCode!.Code}"));
        await app.DeliverAsync(Meta.InboundText(stranger, "hello"));
        await app.DeliverAsync(Meta.InboundText(stranger, "JOIN WRONGCOD"));
        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.CountTo(phones[0]) >= 3 && scenario.Stub.CountTo(newPhone) >= 1 &&
            scenario.Stub.CountTo(stranger) >= 1), Timeout, "the bot's replies");
        await dispatcher.StopAsync();
        await app.DisposeAsync();

        // Assert: the test saw both hosts log about these numbers, masked…
        var entries = logs.Entries;
        Assert.Contains(entries, e => e.Host == "dispatcher" && e.Text.Contains(PhoneMask.Mask(phones[0])));
        Assert.Contains(entries, e => e.Host == "webhook" && e.Text.Contains(PhoneMask.Mask(phones[0])));
        Assert.Contains(entries, e => e.Level == LogLevel.Debug);
        // …and never a whole number (E.164 or WhatsApp's wa_id digits), a token, a secret or an API key.
        string[] secrets =
        [
            WhatsAppStub.AccessToken, Meta.AppSecret, Meta.VerifyToken, Scenario.ApiKey, Scenario.OtherApiKey,
            scenario.Settings["WhatsApp:AccessToken"]!, scenario.Settings["WhatsApp:AppSecret"]!, scenario.Settings["WhatsApp:VerifyToken"]!,
        ];
        string[] numbers = [.. phones, newPhone, stranger];
        var leaks = entries
            .SelectMany(e => numbers.SelectMany(p => new[] { p, Meta.WaId(p) }).Concat(secrets)
                .Where(e.Text.Contains)
                .Select(found => $"[{e.Host} {e.Level} {e.Category}] contains '{found}': {e.Text}"))
            .ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} log entries leak:\n{string.Join("\n", leaks.Take(20))}");
    }

    /// <summary>Bot.Scheduler's Program with the test's logger at Debug.</summary>
    private static IHost StandaloneDispatcher(IDictionary<string, string?> scenarioSettings, ILoggerProvider logs)
    {
        var settings = new Dictionary<string, string?>(scenarioSettings)
        {
            ["Dispatcher:Enabled"] = "true",
            ["Dispatcher:HealthPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in DebugEverywhere) settings[key] = value;
        return DispatcherHosts.Build(settings, logging => logging.ClearProviders().AddProvider(logs));
    }

}

/// <summary>Every log entry of the hosts it is given to, as text: message, structured values, scopes and exception.</summary>
public sealed class CapturedLogs
{
    private readonly ConcurrentQueue<Entry> entries = new();

    public sealed record Entry(string Host, string Category, LogLevel Level, string Text);

    public IReadOnlyList<Entry> Entries => [.. entries];

    public ILoggerProvider Provider(string host) => new CapturingProvider(host, entries);

    private sealed class CapturingProvider(string host, ConcurrentQueue<Entry> sink) : ILoggerProvider, ISupportExternalScope
    {
        private readonly string host = host;
        private readonly ConcurrentQueue<Entry> sink = sink;
        private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(CapturingProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider.scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var text = new System.Text.StringBuilder(formatter(state, exception));
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                    foreach (var (key, value) in values) text.Append(" | ").Append(key).Append('=').Append(value);
                provider.scopes.ForEachScope((scope, b) => b.Append(" | scope ").Append(scope is IEnumerable<KeyValuePair<string, object?>> kv
                    ? string.Join(", ", kv.Select(p => $"{p.Key}={p.Value}"))
                    : scope), text);
                if (exception is not null) text.Append(" | ").Append(exception);
                provider.sink.Enqueue(new Entry(provider.host, category, logLevel, text.ToString()));
            }
        }
    }
}
