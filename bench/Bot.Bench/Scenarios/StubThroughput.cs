using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bot.Bench.Infrastructure;
using Bot.Tools.WhatsAppStub;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 8: the shipped WhatsApp stub alone, as run.sh starts it (its own process, the shipped mappings, faults
/// off), driven over loopback: requests/s with 32 closed-loop clients sustained over <see cref="BenchOptions.StubSends"/>
/// sends to distinct recipients, latency at a paced 500 requests/s, then its RSS and <c>GET /stub/received</c>.
/// </summary>
public static class StubThroughput
{
    private const int Clients = 32;
    private const int PacedRate = 500;
    private static readonly TimeSpan SustainedLimit = TimeSpan.FromMinutes(3);

    public static async Task RunAsync(BenchOptions options, ScenarioResult result)
    {
        var url = $"http://127.0.0.1:{RedisProcess.FreePort()}";
        await using var stub = await ChildProcess.StartStubAsync(url);
        result.Settings["stub"] = $"{stub.Description} (process {stub.Id}), shipped mappings, faults off";
        result.Settings["load"] = $"{Clients} keep-alive connections on loopback from the bench process (same 2 cores)";

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Clients, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "bench-access-token");
        var load = new Load(client);

        await load.ClosedLoopAsync(Clients, options.Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(3)); // warm-up, untimed
        // Sustained: closed loop until StubSends sends in all (a slow stub: until the time limit).
        var (stubCpu, ownCpu) = (CpuMeter.ProcessTicks(stub.Id), CpuMeter.ProcessTicks(Environment.ProcessId));
        var closed = await load.ClosedLoopAsync(Clients, SustainedLimit, stopAt: options.StubSends);
        // CPU per request does not depend on what else the machine runs: 2 cores / (stub + client) is the ceiling here.
        var perRequest = 10_000.0 / closed.Requests; // one tick = 10 ms = 10,000 µs
        result.Add($"requests/s, {Clients} clients (closed loop, {closed.Requests:N0} sends)", closed.PerSecond, "/s", "≥ 1,000/s", closed.PerSecond >= 1_000);
        result.Add($"  p50 at {Clients} clients", closed.Latency.P50, "ms");
        result.Add($"  p99 at {Clients} clients", closed.Latency.P99, "ms");
        result.Add("stub CPU per request", (CpuMeter.ProcessTicks(stub.Id) - stubCpu) * perRequest, "µs");
        result.Add("load generator CPU per request", (CpuMeter.ProcessTicks(Environment.ProcessId) - ownCpu) * perRequest, "µs");

        if (closed.PerSecond < PacedRate / 2.0)
        {
            result.Notes.Add($"paced {PacedRate}/s not run: the stub answers {closed.PerSecond:N0}/s, so its queue would grow for minutes");
        }
        else
        {
            var paced = await load.PacedAsync(PacedRate, options.StubPaced);
            result.Add($"p50 at a paced {PacedRate}/s", paced.Latency.P50, "ms");
            result.Add($"p99 at a paced {PacedRate}/s", paced.Latency.P99, "ms", "≤ 20 ms", paced.Latency.P99 <= 20);
            result.Add($"max at a paced {PacedRate}/s", paced.Latency.Max, "ms");
        }

        result.Add($"stub RSS after {load.Sent:N0} sends", stub.Rss() / 1024.0 / 1024.0, "MB");
        var received = Stopwatch.StartNew();
        var summary = await client.GetFromJsonAsync<JsonElement>(WhatsAppStubServer.ReceivedPath);
        result.Add($"GET {WhatsAppStubServer.ReceivedPath} after {load.Sent:N0} sends", received.Elapsed.TotalMilliseconds, "ms");
        var accepted = summary.GetProperty("accepted").GetInt32();
        result.Require("every send answered 200", load.Failures == 0, $"{load.Failures} of {load.Sent} not 200");
        result.Require("/stub/received counts every send", accepted == load.Sent && summary.GetProperty("maxPerRecipient").GetInt32() <= 1,
            $"accepted {accepted} of {load.Sent}, max per recipient {summary.GetProperty("maxPerRecipient")}");
    }

    private sealed record Run(int Requests, double PerSecond, Stats Latency);

    /// <summary>Sends text messages, each to a recipient of its own (+1650 and a 7-digit counter).</summary>
    private sealed class Load(HttpClient client)
    {
        private int next;
        private int failures;

        public int Sent => Volatile.Read(ref next);
        public int Failures => Volatile.Read(ref failures);

        public async Task<Run> ClosedLoopAsync(int clients, TimeSpan duration, int stopAt = int.MaxValue)
        {
            var latencies = new List<double>[clients];
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                var mine = latencies[c] = [];
                while (clock.Elapsed < duration && Sent < stopAt)
                {
                    var started = Stopwatch.GetTimestamp();
                    await SendAsync();
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }));
            var all = latencies.SelectMany(l => l).ToList();
            return new Run(all.Count, all.Count / clock.Elapsed.TotalSeconds, Stats.Of(all));
        }

        /// <summary>Open loop: request i is due at start + i/rate; latency counts from when it was due (no coordinated omission).</summary>
        public async Task<Run> PacedAsync(int rate, TimeSpan duration)
        {
            var total = (int)(rate * duration.TotalSeconds);
            var latencies = new double[total];
            var inFlight = new List<Task>(total);
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < total; i++)
            {
                var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
                var slot = i;
                inFlight.Add(Task.Run(async () =>
                {
                    await SendAsync();
                    latencies[slot] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
                }));
            }
            await Task.WhenAll(inFlight);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return new Run(total, total / elapsed, Stats.Of(latencies));
        }

        private async Task SendAsync()
        {
            var n = Interlocked.Increment(ref next);
            var to = "+1650" + n.ToString("D7", CultureInfo.InvariantCulture);
            var body = $$"""{"messaging_product":"whatsapp","recipient_type":"individual","to":"{{to}}","type":"text","text":{"body":"Our end of year party is on Saturday evening!"},"biz_opaque_callback_data":"bench:e{{n}}"}""";
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            try
            {
                using var response = await client.PostAsync(WhatsAppStubServer.MessagesPath, content);
                await response.Content.LoadIntoBufferAsync();
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref failures);
            }
        }
    }
}
