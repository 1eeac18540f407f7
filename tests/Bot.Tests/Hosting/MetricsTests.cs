using System.Globalization;
using System.Net;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Hosting;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Hosting;

/// <summary>
/// OpenTelemetry's exporters listen to meters by name across the whole process, so a scrape would also count the
/// sends of dispatchers in tests running beside these: they run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMetrics
{
    public const string Name = "process-wide metrics";
}

/// <summary>
/// /metrics in Prometheus' text format: on the webhook host with the dispatcher embedded, and on a standalone
/// dispatcher's probe port. Meters are process-wide, so every figure is read as a change from before the act.
/// </summary>
[Collection(ProcessWideMetrics.Name)]
public sealed class MetricsTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const string Sends = "announcements_sends_total";
    private const string Duplicates = "announcements_duplicates_prevented_total";
    private const string WebhookEvents = "webhook_events_total";

    [Fact]
    public async Task EmbeddedDispatcherSendsReRunsAndWebhookEventsMoveTheCountersOnTheWebhookHost()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Webhook:ProcessInbox"] = "false" });
        // Only this host works off the inbox (not the scenario's own), so the replies it sends are counted here.
        await using var app = new WebhookHost(new Dictionary<string, string?>(scenario.Settings) { ["Dispatcher:Enabled"] = "true", ["Webhook:ProcessInbox"] = "true" });
        using var prometheus = app.ClientFor(apiKey: null);
        var before = await Scrape.GetAsync(prometheus, "/metrics");
        var employees = await scenario.AddEmployeesAsync(4);

        // One announcement to four employees, sent by the dispatcher inside the webhook host.
        var id = await scenario.CreateAnnouncementAsync(new { message = "Metrics are in" });
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);

        var afterSend = await Scrape.WaitAsync(prometheus, "/metrics", s => s.Delta(before, Sends, ("outcome", "Accepted")) >= 4);
        Assert.Equal(4, afterSend.Delta(before, Sends, ("outcome", "Accepted")));
        Assert.Equal(4, afterSend.Delta(before, Sends));
        Assert.True(afterSend.Delta(before, "announcements_claim_latency_seconds_count") >= 1, "claim latency not recorded");
        Assert.True(afterSend.Delta(before, "announcements_fanout_duration_seconds_count") >= 1, "fan-out duration not recorded");

        // A re-run of the finished announcement (as a resumed dispatcher would) finds every delivery claimed.
        var store = app.Services.GetRequiredService<AnnouncementStore>();
        Assert.True(await store.Lifecycle.RetryAsync(id));
        await app.Services.GetRequiredService<FanOut>().RunAsync(app.Services.GetRequiredService<AnnouncementQueues>().Of("default"), id, "rerun", () => true, CancellationToken.None);

        var afterReRun = await Scrape.WaitAsync(prometheus, "/metrics", s => s.Delta(before, Duplicates) >= 4);
        Assert.Equal(4, afterReRun.Delta(before, Duplicates));
        Assert.Equal(4, afterReRun.Delta(before, Sends));
        var sends = await scenario.Stub.WhenSentAsync(4);
        Assert.Equal(4, sends.Count);

        // Signed webhook POSTs: a status per send and one employee message.
        var deliveries = await scenario.GetDeliveriesAsync(id);
        var phoneOf = employees.ToDictionary(e => e.Id, e => e.Phone);
        await app.DeliverAsync(Meta.Statuses([.. deliveries.Select(d => Meta.Status(d.MessageId!, "delivered", phoneOf[d.EmployeeId], $"{id}:{d.EmployeeId}"))]));
        await app.DeliverAsync(Meta.InboundText(employees[0].Phone, "hello"));

        var afterWebhook = await Scrape.WaitAsync(prometheus, "/metrics", s => s.Delta(before, WebhookEvents, ("type", "message")) >= 1);
        Assert.Equal(4, afterWebhook.Delta(before, WebhookEvents, ("type", "status"), ("status", "delivered")));
        Assert.Equal(1, afterWebhook.Delta(before, WebhookEvents, ("type", "message")));
        // The employee's message got its reply through the outbox; the inbox and outbox gauges are exported.
        var afterReply = await Scrape.WaitAsync(prometheus, "/metrics", s => s.Delta(before, "webhook_replies_total", ("outcome", "sent")) >= 1);
        Assert.Equal(1, afterReply.Delta(before, "webhook_replies_total", ("outcome", "sent")));
        Assert.Contains(afterReply.Samples, s => s.Name == "webhook_inbox_length");
        Assert.Contains(afterReply.Samples, s => s.Name == "webhook_inbox_oldest_age_seconds");
        Assert.Contains(afterReply.Samples, s => s.Name == "webhook_outbox_length");
        // ASP.NET Core's and the runtime's meters are exported too.
        Assert.Contains(afterWebhook.Samples, s => s.Name == "http_server_request_duration_seconds_count");
        Assert.Contains(afterWebhook.Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StandaloneDispatcherServesMetricsBesideItsHealthProbe()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(3);
        var port = Ports.Free();
        using var host = StandaloneDispatcher(scenario, port);
        await host.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var before = await Scrape.GetAsync(client, MetricsExtensions.ScrapePath);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Scrape me" });
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, Timeout);

        var after = await Scrape.WaitAsync(client, MetricsExtensions.ScrapePath, s => s.Delta(before, Sends, ("outcome", "Accepted")) >= 3);
        Assert.Equal(3, after.Delta(before, Sends, ("outcome", "Accepted")));
        Assert.Contains(after.Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
        // It holds the lock of the one sender configured.
        Assert.Contains(after.Samples, s => s.Name == "announcements_sender_locks" && s.Value >= 1);
        // The probe still answers on the same port.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(HealthEndpoints.ReadyPath)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/nothing-here")).StatusCode);
        await host.StopAsync();
    }

    /// <summary>Bot.Scheduler's Program: dispatcher, probe and its metrics on <c>Dispatcher:HealthPort</c>.</summary>
    private static IHost StandaloneDispatcher(Scenario scenario, int port) =>
        DispatcherHosts.Build(new Dictionary<string, string?>(scenario.Settings)
        {
            ["Dispatcher:Enabled"] = "true",
            ["Dispatcher:HealthPort"] = port.ToString(CultureInfo.InvariantCulture),
        });

}

/// <summary>One scrape in Prometheus' text format: <c>name{label="value",…} value [timestamp]</c> per sample.</summary>
public sealed record Scrape(IReadOnlyList<Scrape.Sample> Samples)
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public static async Task<Scrape> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Scrapes until <paramref name="done"/>: the exporters cache a scrape for a moment, and instruments record after the fact.</summary>
    public static Task<Scrape> WaitAsync(HttpClient client, string path, Func<Scrape, bool> done) =>
        Eventually.WaitAsync(() => GetAsync(client, path), done, TimeSpan.FromSeconds(10), $"metrics at {path}");

    /// <summary>Sum of the samples named <paramref name="name"/> carrying all of <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    public double Delta(Scrape before, string name, params (string Key, string Value)[] labels) =>
        Sum(name, labels) - before.Sum(name, labels);

    public static Scrape Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var labels = new Dictionary<string, string>();
            string name, rest;
            var brace = line.IndexOf('{');
            if (brace >= 0)
            {
                name = line[..brace];
                var close = line.LastIndexOf('}');
                ParseLabels(line[(brace + 1)..close], labels);
                rest = line[(close + 1)..].Trim();
            }
            else
            {
                var space = line.IndexOf(' ');
                name = line[..space];
                rest = line[(space + 1)..].Trim();
            }
            var value = rest.Split(' ')[0];
            samples.Add(new Sample(name, labels, value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            }));
        }
        return new Scrape(samples);
    }

    private static void ParseLabels(string text, Dictionary<string, string> labels)
    {
        var i = 0;
        while (i < text.Length)
        {
            var eq = text.IndexOf('=', i);
            var key = text[i..eq].Trim().TrimStart(',').Trim();
            var value = new System.Text.StringBuilder();
            var j = eq + 2; // past ="
            for (; j < text.Length && text[j] != '"'; j++)
            {
                if (text[j] == '\\' && j + 1 < text.Length) j++;
                value.Append(text[j]);
            }
            labels[key] = value.ToString();
            i = j + 1;
            while (i < text.Length && text[i] is ',' or ' ') i++;
        }
    }
}
