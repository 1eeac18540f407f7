using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bot.Bench.Infrastructure;
using Bot.Core.Redis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 14: what events out cost the fan-out. One announcement to every employee, one dispatcher, no rate cap:
/// without an endpoint; with one registered (<c>PUT /api/webhooks</c> on the built Bot.Webhook, whose event worker
/// POSTs to a receiver in this process answering 200); and with one while the Bot.Webhook process is stopped
/// (SIGSTOP) until the announcement completed — the outbox writes alone, as when the webhook hosts have cores of their
/// own. Alternately for <c>--rounds</c> rounds (2) so the machine's noise falls on all three. With an endpoint every
/// delivery's <c>delivery.sent</c> must arrive.
/// </summary>
public static class EventsCost
{
    private const string Without = "without an endpoint", With = "with an endpoint", Held = "with an endpoint, worker stopped until completion";

    private sealed record Cpu(double Dispatcher, double Redis, double Bench, double Webhook);

    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        if (world.Webhook.Url is null) throw new InvalidOperationException(world.Webhook.Problem);
        await using var receiver = await Receiver.StartAsync();
        using var api = new HttpClient { BaseAddress = new Uri(world.Webhook.Url), Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Add("X-Api-Key", BenchWorld.ApiKey);
        var employees = world.Options.EventsEmployees;
        result.Settings["endpoint"] = $"{receiver.Url} (Kestrel in the bench process, 200 to every POST); Bot.Webhook defaults but Webhooks:AllowHttp=true";

        string[] modes = [Without, With, Held];
        var rates = modes.ToDictionary(m => m, _ => new List<double>());
        var cpus = modes.ToDictionary(m => m, _ => new List<Cpu>());
        long webhookTicks = 0, eventsTotal = 0;
        var webhookPid = world.Webhook.ProcessId!.Value;
        // Without, with, held; then held, with, without; …: a drift in the machine's load falls on all alike.
        var rounds = world.Options.EventsRounds;
        foreach (var mode in Enumerable.Range(0, rounds).SelectMany(r => r % 2 == 0 ? modes : modes.Reverse()))
        {
            receiver.Reset();
            long ticksBefore = 0;
            FanOutRun.Run run;
            try
            {
                run = await FanOutRun.RunAsync(world, result, world.Redis, employees, 1, noRateCap: true, beforeCreate: async () =>
                {
                    if (mode != Without) await RegisterAsync(api, receiver.Url + "/events");
                    if (mode == Held) await SignalAsync(webhookPid, "STOP");
                    ticksBefore = CpuMeter.ProcessTicks(webhookPid);
                });
            }
            finally
            {
                if (mode == Held) await SignalAsync(webhookPid, "CONT");
            }
            // Read once FanOutRun has seen the records folded, a few ms after completion.
            cpus[mode].Add(new Cpu(run.Cpu.Dispatchers, run.Cpu.Redis, run.Cpu.Bench, (CpuMeter.ProcessTicks(webhookPid) - ticksBefore) / 100.0));
            rates[mode].Add(employees / run.Elapsed.TotalSeconds);
            if (mode == Without) continue;
            var label = $"round {rates[mode].Count}, {(mode == With ? "with" : "worker stopped")}";
            var completedAt = DateTimeOffset.FromUnixTimeMilliseconds((long)await world.Redis.Db.HashGetAsync(RedisKeys.Announcement(run.AnnouncementId), "completedAt")).UtcTicks;

            // Every delivery's 'sent' and the announcement's 'completed'; the worker polls every Webhooks:PollInterval (1 s).
            var deadline = DateTime.UtcNow.AddSeconds(60 + employees / 50.0);
            while ((receiver.SentOf(run.AnnouncementId) < employees || !receiver.Completed(run.AnnouncementId)) && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            webhookTicks += CpuMeter.ProcessTicks(webhookPid) - ticksBefore;
            var sent = receiver.SentOf(run.AnnouncementId);
            result.Require($"{label}: every delivery.sent arrived", sent == employees, $"{sent} of {employees} delivery.sent events");
            result.Require($"{label}: announcement.completed arrived", receiver.Completed(run.AnnouncementId),
                receiver.Completed(run.AnnouncementId) ? "arrived" : "missing");
            var arrivals = receiver.Arrivals();
            if (arrivals.Length < 2) continue;
            eventsTotal += arrivals.Length;
            result.Add($"{label}: events/s delivered (first → last received)", (arrivals.Length - 1) / TimeSpan.FromTicks(arrivals[^1] - arrivals[0]).TotalSeconds, "/s");
            result.Add($"{label}: last event after completion", TimeSpan.FromTicks(arrivals[^1] - completedAt).TotalSeconds, "s");
            result.Add($"{label}: events received before completion", 100.0 * arrivals.Count(t => t <= completedAt) / arrivals.Length, "%");
            result.Add($"{label}: events received more than once", receiver.Duplicates, "");
            // The next run flushes Redis, endpoint included: the worker's pump for it stops on its own.
        }

        for (var i = 0; i < rounds; i++)
        {
            foreach (var mode in modes) result.Add($"round {i + 1}: deliveries/s {mode} (create → completed)", rates[mode][i], "/s");
            result.Add($"round {i + 1}: throughput lost with", 100 * (1 - rates[With][i] / rates[Without][i]), "%");
            result.Add($"round {i + 1}: throughput lost worker stopped", 100 * (1 - rates[Held][i] / rates[Without][i]), "%");
        }
        var cost = 100 * (1 - rates[With].Average() / rates[Without].Average());
        result.Add("fan-out throughput lost to events (mean of rounds)", cost, "%", "≤ 10 %", cost <= 10);
        result.Add("  the same, worker stopped until completion (outbox writes only)", 100 * (1 - rates[Held].Average() / rates[Without].Average()), "%");
        foreach (var mode in modes)
        {
            var list = cpus[mode];
            result.Add($"CPU per delivery {mode}: dispatcher", Micros(list.Average(c => c.Dispatcher)), "µs");
            result.Add($"CPU per delivery {mode}: redis-server", Micros(list.Average(c => c.Redis)), "µs");
            result.Add($"CPU per delivery {mode}: bench (stand-in, receiver)", Micros(list.Average(c => c.Bench)), "µs");
            result.Add($"CPU per delivery {mode}: Bot.Webhook", Micros(list.Average(c => c.Webhook)), "µs");
        }
        // From just after registering to the last event: the worker's Redis calls, signing, the POSTs.
        if (eventsTotal > 0) result.Add("Bot.Webhook CPU per event delivered", webhookTicks / 100.0 * 1e6 / eventsTotal, "µs");
        return;

        double Micros(double seconds) => seconds * 1e6 / employees;
    }

    /// <summary>SIGSTOP / SIGCONT to the bench's own Bot.Webhook child, by its id.</summary>
    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {pid} exited {kill.ExitCode}");
    }

    private static async Task RegisterAsync(HttpClient api, string url)
    {
        using var response = await api.PutAsJsonAsync("/api/webhooks", new { url });
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"PUT /api/webhooks answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The employer's endpoint: bare Kestrel on loopback, 200 to every POST, noting when each event came and what it was.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication app;
        private ConcurrentQueue<long> arrivals = new();
        private ConcurrentDictionary<string, int> seen = new();
        private ConcurrentDictionary<string, int> sent = new();
        private ConcurrentDictionary<string, bool> completed = new();

        private Receiver(WebApplication app) => this.app = app;

        public string Url { get; private set; } = "";

        public int Duplicates => seen.Values.Sum(n => n - 1);

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/events", receiver.HandleAsync);
            await app.StartAsync();
            receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return receiver;
        }

        public void Reset() => (arrivals, seen, sent, completed) = (new(), new(), new(), new());

        public int SentOf(string announcementId) => sent.GetValueOrDefault(announcementId);

        public bool Completed(string announcementId) => completed.ContainsKey(announcementId);

        public long[] Arrivals()
        {
            var times = arrivals.ToArray();
            Array.Sort(times);
            return times;
        }

        private async Task HandleAsync(HttpContext context)
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            arrivals.Enqueue(DateTime.UtcNow.Ticks);
            var type = body.RootElement.GetProperty("type").GetString();
            var data = body.RootElement.GetProperty("data");
            var announcementId = data.GetProperty("announcementId").GetString()!;
            // webhook-id is the event's id, the same on a retry: what a receiver deduplicates on.
            if (seen.AddOrUpdate(context.Request.Headers["webhook-id"].ToString(), 1, static (_, n) => n + 1) == 1)
            {
                if (type == "delivery.sent") sent.AddOrUpdate(announcementId, 1, static (_, n) => n + 1);
                if (type == "announcement.completed") completed[announcementId] = true;
            }
            context.Response.StatusCode = 200;
        }

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
