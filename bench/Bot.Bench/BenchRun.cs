using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bot.Bench.Infrastructure;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Bench;

/// <summary>
/// Runs the scenarios of issue 6 against one redis-server (started here, no persistence), an in-process WhatsApp
/// stand-in, dispatcher replicas as processes of this program (<see cref="DispatcherRole"/>) and the built
/// Bot.Webhook as a process. Seeding goes straight through the Bot.Core stores and is never timed.
/// </summary>
public sealed class BenchRun(BenchOptions options)
{
    private const string EmployerId = "bench";
    private const string ApiKey = "bench-api-key-0123456789";
    private const string AppSecret = "bench-app-secret";
    private const string Message = "Our end of year party is on Saturday evening!";

    private readonly List<ScenarioResult> results = [];
    private RedisProcess redis = null!;
    private WhatsAppStandIn whatsApp = null!;
    private ChildProcess? webhook;
    private string? webhookUrl;
    private string? webhookProblem;
    private bool webhookRouteExists;
    private string redisVersion = "?";

    /// <summary>The announcement of the single-dispatcher fan-out: 100k 'sent' deliveries the webhook scenario updates.</summary>
    private (string Id, int Employees)? fannedOut;

    public async Task<int> RunAsync()
    {
        var started = DateTimeOffset.UtcNow;
        Console.WriteLine($"Bot.Bench {(options.Quick ? "--quick" : "full run")}: {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        redis = await RedisProcess.StartAsync();
        whatsApp = await WhatsAppStandIn.StartAsync();
        redisVersion = await redis.VersionAsync();
        Console.WriteLine($"redis-server {redisVersion} ({redis.Description}); WhatsApp stand-in {whatsApp.Url}");
        try
        {
            if (options.Runs(3) || options.Runs(6)) await StartWebhookAsync();

            if (options.Runs(1) || options.Runs(4) || options.Runs(5) || options.Runs(7) || options.Runs(6))
            {
                await FanOutAsync("1", "Fan-out, 1 dispatcher, no rate cap", dispatchers: 1, keepForWebhook: true);
                if (options.Runs(6)) await Scenario("6", "Webhook ingest", WebhookIngestAsync);
                if (options.Runs(1)) await FanOutAsync("1b", "Fan-out, 3 dispatchers, no rate cap", dispatchers: 3, keepForWebhook: false);
            }
            if (options.Runs(2)) await Scenario("2", "Rate-capped fan-out", RateCappedAsync);
            if (options.Runs(3)) await Scenario("3", "Scheduling latency", SchedulingLatencyAsync);
            if (options.WithAof && options.Runs(1)) await FanOutWithAofAsync();
        }
        finally
        {
            if (webhook is not null) await webhook.DisposeAsync();
            await whatsApp.DisposeAsync();
            await redis.DisposeAsync();
        }

        var report = new BenchReport(options.Quick ? "quick" : "full", started, DateTimeOffset.UtcNow, Machine(), results);
        Console.WriteLine();
        Console.Write(ReportWriter.Table(report));
        await ReportWriter.WriteJsonAsync(report, options.Output);
        Console.WriteLine($"results: {options.Output}");

        var failed = results.SelectMany(r => r.Checks.Where(c => !c.Passed).Select(c => $"{r.Id} {c.Name}: {c.Detail}")).ToList();
        foreach (var failure in failed) Console.Error.WriteLine($"bench correctness FAILED: {failure}");
        Console.WriteLine(failed.Count == 0 ? "bench: correctness ok (0 duplicates, all delivered)" : $"bench: {failed.Count} correctness check(s) failed");
        return failed.Count == 0 ? 0 : 1;
    }

    private async Task Scenario(string id, string title, Func<ScenarioResult, Task> body)
    {
        var result = new ScenarioResult(id, title) { LoadAverageBefore = LoadAverage() };
        Console.WriteLine($"[{id}] {title} …");
        var clock = Stopwatch.StartNew();
        var cpu = CpuMeter.Take();
        try
        {
            await body(result);
        }
        catch (Exception ex)
        {
            result.Require("ran", false, $"{ex.GetType().Name}: {ex.Message}");
        }
        result.Seconds = Math.Round(clock.Elapsed.TotalSeconds, 1);
        result.OthersCpuPercent = Math.Round(CpuMeter.OthersPercent(cpu, CpuMeter.Take()), 1);
        if (options.Quick)
        {
            // Quick sizes say nothing about the targets; CI asserts correctness only.
            for (var i = 0; i < result.Metrics.Count; i++) result.Metrics[i] = result.Metrics[i] with { Target = null, Met = null };
        }
        result.LoadAverageAfter = LoadAverage();
        results.Add(result);
        Console.WriteLine($"    ({result.Seconds:N1} s; other processes used {result.OthersCpuPercent:N0}% of the machine's CPU meanwhile)");
        foreach (var m in result.Metrics) Console.WriteLine($"    {m.Name}: {ReportWriter.Format(m.Value, m.Unit)}{(m.Met == false ? "  (target " + m.Target + " MISSED)" : "")}");
        foreach (var c in result.Checks.Where(c => !c.Passed)) Console.WriteLine($"    FAILED {c.Name}: {c.Detail}");
    }

    // ---- Scenarios 1, 4, 5, 7: one announcement to every employee ------------------------------------------------

    private Task FanOutAsync(string id, string title, int dispatchers, bool keepForWebhook) =>
        Scenario(id, title, async result =>
        {
            var run = await RunFanOutAsync(result, redis, options.FanOutEmployees, dispatchers, noRateCap: true);
            if (keepForWebhook) fannedOut = (run.AnnouncementId, options.FanOutEmployees);
            var perDelivery = run.Employees;
            result.Add("deliveries/s (create → completed)", run.Employees / run.Elapsed.TotalSeconds, "/s", "≥ 5,000/s",
                run.Employees / run.Elapsed.TotalSeconds >= 5_000);
            result.Add("deliveries/s (first → last send)", run.SendRate, "/s");
            result.Add("create → first send", run.FirstSendMs, "ms");
            if (dispatchers > 1) return;

            // 4: Redis memory per delivery
            var bytes = (double)run.MemoryDelta / perDelivery;
            result.Add("Redis used_memory delta per delivery", bytes, "B", "≤ 120 B", bytes <= 120);
            result.Add("  of which the delivery key (MEMORY USAGE, sampled)", run.DeliveryKeyBytes, "B");
            if (run.MessageIndexKeyBytes > 0) result.Add("  of which the wamid index key (MEMORY USAGE, sampled)", run.MessageIndexKeyBytes, "B");
            result.Add("  rest: hash-table buckets, expiry entries, audience list", bytes - run.DeliveryKeyBytes - run.MessageIndexKeyBytes, "B");
            result.Add("Redis keys per delivery", (double)run.KeysDelta / perDelivery, "");

            // 5: dispatcher footprint
            var rssMb = run.PeakRss / 1024.0 / 1024.0;
            result.Add("dispatcher peak RSS", rssMb, "MB", "≤ 200 MB", rssMb <= 200);
            result.Add("dispatcher allocated per delivery", (double)run.Allocated / perDelivery, "B");
            result.Notes.Add($"dispatcher garbage collections during the fan-out: gen0 {run.Gen0}, gen1 {run.Gen1}, gen2 {run.Gen2}");

            // 7: Redis round trips
            result.Add("Redis commands sent per delivery (client)", (double)run.ClientOperations / perDelivery, "");
            result.Add("Redis commands executed per delivery (server, incl. inside Lua)", run.ServerCommands / perDelivery, "");
            result.CommandsPerDelivery = run.CommandCalls.ToDictionary(kv => kv.Key, kv => Math.Round((double)kv.Value / perDelivery, 4));
        });

    private sealed record FanOutRun(
        string AnnouncementId, int Employees, TimeSpan Elapsed, double SendRate, double FirstSendMs, long MemoryDelta, long KeysDelta,
        double DeliveryKeyBytes, double MessageIndexKeyBytes, long PeakRss, long Allocated, int Gen0, int Gen1, int Gen2,
        long ClientOperations, double ServerCommands, Dictionary<string, long> CommandCalls, SendLog Log);

    private async Task<FanOutRun> RunFanOutAsync(ScenarioResult result, RedisProcess server, int employees, int dispatchers, bool noRateCap)
    {
        await server.ResetAsync();
        await SeedEmployeesAsync(server, employees);
        whatsApp.Reset(employees);
        result.Settings["employees"] = employees.ToString(CultureInfo.InvariantCulture);
        result.Settings["dispatchers"] = $"{dispatchers} (processes of Bot.Bench --role dispatcher, Bot.Scheduler's wiring; RedLock on)";
        result.Settings["rate cap"] = noRateCap ? "none (limiter replaced)" : $"WhatsApp:MessagesPerSecond={options.RateCap}";
        result.Settings["redis"] = server.Description;

        var processes = await StartDispatchersAsync(server, dispatchers, noRateCap ? null : options.RateCap);
        try
        {
            await WarmUpAsync(server, processes.Length);
            whatsApp.Reset(employees);
            var before = await Task.WhenAll(processes.Select(p => p.StatsAsync()));
            var memoryBefore = await server.UsedMemoryAsync();
            var keysBefore = await server.Server.DatabaseSizeAsync();
            await server.Server.ExecuteAsync("CONFIG", "RESETSTAT");

            var created = DateTime.UtcNow.Ticks;
            var clock = Stopwatch.StartNew();
            var id = await CreateAnnouncementAsync(server, sendAt: null, employeeIds: null);
            var polls = await WaitForCompletionAsync(server, id, employees, TimeSpan.FromSeconds(60 + employees / 500.0));
            var elapsed = clock.Elapsed;

            var calls = await server.CommandCallsAsync();
            var after = await Task.WhenAll(processes.Select(p => p.StatsAsync()));
            var memoryAfter = await server.UsedMemoryAsync();
            var keysAfter = await server.Server.DatabaseSizeAsync();
            var peakRss = processes.Max(p => p.PeakRss());
            var log = whatsApp.Snapshot();
            var counts = await Stores(server).Announcements.CountsAsync(id);

            CheckExactlyOnce(result, log, employees, counts);
            // Our own polling and bookkeeping are not the product's traffic.
            calls["hget"] = calls.GetValueOrDefault("hget") - polls;
            foreach (var own in calls.Keys.Where(k => k is "info" or "ping" or "echo" or "dbsize" || k.StartsWith("config|", StringComparison.Ordinal) ||
                         k.StartsWith("client|", StringComparison.Ordinal) || k.StartsWith("cluster|", StringComparison.Ordinal)).ToList())
                calls.Remove(own);

            var stamps = await server.Db.HashGetAsync(RedisKeys.Announcement(id), ["createdAt", "startedAt", "completedAt"]);
            if (!stamps[1].IsNull)
                result.Add("create → claimed (startedAt − createdAt)", (long)stamps[1] - (long)stamps[0], "ms");
            var (deliveryBytes, indexBytes) = await SampleKeySizesAsync(server, id, employees);
            return new FanOutRun(id, employees, elapsed,
                log.Total > 1 ? (log.Total - 1) / TimeSpan.FromTicks(log.Arrivals[^1] - log.Arrivals[0]).TotalSeconds : 0,
                log.Total > 0 ? TimeSpan.FromTicks(log.Arrivals[0] - created).TotalMilliseconds : double.NaN,
                memoryAfter - memoryBefore, keysAfter - keysBefore, deliveryBytes, indexBytes, peakRss,
                after.Zip(before).Sum(p => p.First.AllocatedBytes - p.Second.AllocatedBytes),
                after.Zip(before).Sum(p => p.First.Gen0 - p.Second.Gen0),
                after.Zip(before).Sum(p => p.First.Gen1 - p.Second.Gen1),
                after.Zip(before).Sum(p => p.First.Gen2 - p.Second.Gen2),
                // Minus the 'stats' round itself: nothing, the counters are read locally.
                after.Zip(before).Sum(p => p.First.RedisOperations - p.Second.RedisOperations),
                calls.Values.Sum(), calls, log);
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
        }
    }

    private async Task FanOutWithAofAsync()
    {
        await Scenario("1c", "Fan-out, 1 dispatcher, AOF appendfsync always (the shipped durability)", async result =>
        {
            await using var durable = await RedisProcess.StartAsync("--appendonly", "yes", "--appendfsync", "always");
            var run = await RunFanOutAsync(result, durable, options.FanOutEmployees, 1, noRateCap: true);
            result.Add("deliveries/s (create → completed)", run.Employees / run.Elapsed.TotalSeconds, "/s");
            result.Add("deliveries/s (first → last send)", run.SendRate, "/s");
            result.Notes.Add("Same as 1 with the persistence README's 'Delivery guarantees' asks for; the disk is this machine's.");
        });
    }

    // ---- Scenario 2 ------------------------------------------------------------------------------------------------

    private async Task RateCappedAsync(ScenarioResult result)
    {
        var n = options.RateCappedEmployees;
        var run = await RunFanOutAsync(result, redis, n, 1, noRateCap: false);
        var ideal = (double)n / options.RateCap;
        var total = run.Elapsed.TotalSeconds;
        var firstToLast = TimeSpan.FromTicks(run.Log.Arrivals[^1] - run.Log.Arrivals[0]).TotalSeconds;
        var window = run.Log.LargestOneSecondWindow();
        result.Add("total time (create → completed)", total, "s", $"{ideal:N0} s ± 1%", Math.Abs(total - ideal) <= ideal * 0.01);
        result.Add("first → last send", firstToLast, "s");
        result.Add("largest 1-s window (sliding)", window, "sends", $"≤ {options.RateCap * 1.02:N0}", window <= options.RateCap * 1.02);
    }

    // ---- Scenario 3 ------------------------------------------------------------------------------------------------

    private async Task SchedulingLatencyAsync(ScenarioResult result)
    {
        var count = options.ScheduledAnnouncements;
        var per = options.RecipientsPerScheduled;
        var sendNow = webhookUrl is null ? 0 : options.SendNowSamples;
        // Two extra groups of employees for the untimed warm-ups (dispatcher, then the API).
        var employees = (count + sendNow + 2) * per;
        await redis.ResetAsync();
        await SeedEmployeesAsync(redis, employees);
        whatsApp.Reset(employees);
        result.Settings["announcements"] = $"{count} × {per} employees, due uniformly over {options.ScheduleWindow.TotalSeconds:N0} s (seed 42)";
        result.Settings["dispatcher"] = $"1 process, defaults (PollInterval 1 s, RedLock on), WhatsApp:MessagesPerSecond={options.RateCap}";

        var processes = await StartDispatchersAsync(redis, 1, options.RateCap);
        try
        {
            // A fresh process's first announcement pays for JIT, the first HTTP connection and Refit's set-up; that is
            // reported on its own, and the scheduled ones measure a dispatcher that has sent before.
            var warmUpIds = Enumerable.Range((count + sendNow) * per, per).Select(EmployeeId).ToList();
            var warmUpAt = DateTime.UtcNow.Ticks;
            var warmUp = await CreateAnnouncementAsync(redis, sendAt: null, warmUpIds);
            var coldUntil = DateTime.UtcNow.AddSeconds(30);
            while (whatsApp.FirstSendOf(warmUp) is null && DateTime.UtcNow < coldUntil) await Task.Delay(1);
            if (whatsApp.FirstSendOf(warmUp) is { } coldFirst)
                result.Add("first announcement after dispatcher start (cold)", TimeSpan.FromTicks(coldFirst - warmUpAt).TotalMilliseconds, "ms");

            var random = new Random(42);
            var start = DateTimeOffset.UtcNow.AddSeconds(5);
            var scheduled = new List<(string Id, DateTimeOffset DueAt)>();
            for (var a = 0; a < count; a++)
            {
                var dueAt = Clock.FromUnixMs((start + options.ScheduleWindow * random.NextDouble()).ToUnixMs());
                var ids = Enumerable.Range(a * per, per).Select(EmployeeId).ToList();
                scheduled.Add((await CreateAnnouncementAsync(redis, dueAt, ids), dueAt));
            }
            var createdBy = DateTimeOffset.UtcNow;
            if (createdBy > scheduled.Min(x => x.DueAt))
                result.Notes.Add($"creating the announcements took until {(createdBy - start).TotalSeconds:N2} s after the window opened: the earliest were created late");
            var deadline = start + options.ScheduleWindow + TimeSpan.FromSeconds(30);
            while (scheduled.Any(s => whatsApp.FirstSendOf(s.Id) is null) && DateTimeOffset.UtcNow < deadline) await Task.Delay(50);
            var latencies = scheduled.Select(s => whatsApp.FirstSendOf(s.Id) is { } first
                ? TimeSpan.FromTicks(first - s.DueAt.UtcTicks).TotalMilliseconds : double.PositiveInfinity).Order().ToArray();
            result.Add("due → first send p50", Percentile(latencies, 0.50), "ms");
            result.Add("due → first send p99", Percentile(latencies, 0.99), "ms", "≤ 250 ms", Percentile(latencies, 0.99) <= 250);
            result.Add("due → first send max", latencies[^1], "ms");
            foreach (var slow in scheduled.Select(s => (s.DueAt, Ms: whatsApp.FirstSendOf(s.Id) is { } f ? TimeSpan.FromTicks(f - s.DueAt.UtcTicks).TotalMilliseconds : double.PositiveInfinity))
                         .OrderByDescending(x => x.Ms).Take(3))
            {
                var near = scheduled.Count(o => Math.Abs((o.DueAt - slow.DueAt).TotalMilliseconds) <= 250) - 1;
                result.Notes.Add($"slow: {slow.Ms:N0} ms late, due at +{(slow.DueAt - start).TotalSeconds:N2} s, {near} other(s) due within ±250 ms");
            }

            if (webhookUrl is null)
            {
                result.Notes.Add($"'send now' through the API not measured: {webhookProblem}");
            }
            else
            {
                using var api = new HttpClient { BaseAddress = new Uri(webhookUrl) };
                api.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
                var sendNowLatencies = new List<double>();
                var postLatencies = new List<double>();
                // Untimed: the API's first request pays for its own JIT.
                var apiWarmUpIds = Enumerable.Range((count + sendNow + 1) * per, per).Select(EmployeeId).ToList();
                using (var first = await api.PostAsJsonAsync("/api/announcements", new { message = Message, employeeIds = apiWarmUpIds }))
                {
                    first.EnsureSuccessStatusCode();
                    var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                    var until = DateTime.UtcNow.AddSeconds(10);
                    while (whatsApp.FirstSendOf(id) is null && DateTime.UtcNow < until) await Task.Delay(1);
                }
                for (var s = 0; s < sendNow; s++)
                {
                    var ids = Enumerable.Range((count + s) * per, per).Select(EmployeeId).ToList();
                    var posted = DateTime.UtcNow.Ticks;
                    var clock = Stopwatch.StartNew();
                    using var response = await api.PostAsJsonAsync("/api/announcements", new { message = Message, employeeIds = ids });
                    postLatencies.Add(clock.Elapsed.TotalMilliseconds);
                    response.EnsureSuccessStatusCode();
                    var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                    var until = DateTime.UtcNow.AddSeconds(10);
                    long? first;
                    while ((first = whatsApp.FirstSendOf(id)) is null && DateTime.UtcNow < until) await Task.Delay(1);
                    sendNowLatencies.Add(first is { } f ? TimeSpan.FromTicks(f - posted).TotalMilliseconds : double.PositiveInfinity);
                    await Task.Delay(200);
                }
                var sorted = sendNowLatencies.Order().ToArray();
                result.Add("'send now' POST → first send p50", Percentile(sorted, 0.50), "ms");
                result.Add("'send now' POST → first send max", sorted[^1], "ms");
                result.Add("'send now' POST answered (p50)", Percentile([.. postLatencies.Order()], 0.50), "ms");
                result.Settings["send now"] = $"{sendNow} POST /api/announcements to Bot.Webhook ({per} employees each), one after another";
            }

            var all = DateTime.UtcNow.AddSeconds(30);
            while (whatsApp.Count < employees && DateTime.UtcNow < all) await Task.Delay(50);
            await Task.Delay(200);
            var log = whatsApp.Snapshot();
            result.Require("0 duplicates", log.Duplicates == 0, $"{log.Duplicates} duplicate sends");
            result.Require("all delivered", log.PerRecipient.Count == employees, $"{log.PerRecipient.Count} of {employees} phones got the message");
        }
        finally
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
        }
    }

    // ---- Scenario 6 ------------------------------------------------------------------------------------------------

    private async Task WebhookIngestAsync(ScenarioResult result)
    {
        if (webhookUrl is null || !webhookRouteExists)
        {
            result.Notes.Add($"not measured: {webhookProblem ?? "POST /webhook does not exist in this build"}");
            return;
        }
        if (fannedOut is not { } source) throw new InvalidOperationException("needs the deliveries of scenario 1");
        const int warmUp = 500;
        var singles = options.WebhookSingles;
        var batchSize = options.WebhookBatchSize;
        var batches = options.WebhookBatches;
        var needed = warmUp + singles + batches * batchSize;
        if (needed > source.Employees)
        {
            singles = Math.Min(singles, (source.Employees - warmUp) / 2);
            batches = (source.Employees - warmUp - singles) / batchSize;
            needed = warmUp + singles + batches * batchSize;
        }
        result.Settings["load"] = $"{options.WebhookConcurrency} concurrent keep-alive connections on loopback, closed loop; statuses 'delivered' for 'sent' deliveries of scenario 1";
        result.Settings["singles"] = $"{singles} POSTs × 1 status (after {warmUp} warm-up POSTs)";
        result.Settings["batches"] = $"{batches} POSTs × {batchSize} statuses";

        var stores = Stores(redis);
        var ids = Enumerable.Range(0, needed).Select(EmployeeId).ToArray();
        var records = new List<DeliveryRecord?>();
        foreach (var chunk in ids.Chunk(1000)) records.AddRange(await stores.Deliveries.GetManyAsync(source.Id, chunk));
        var statuses = ids.Select((employee, i) => Status(source.Id, employee, records[i]?.MessageId ?? "")).ToArray();

        var warm = statuses[..warmUp].Select(s => Payload([s])).ToList();
        var single = statuses[warmUp..(warmUp + singles)].Select(s => Payload([s])).ToList();
        var batched = statuses[(warmUp + singles)..].Chunk(batchSize).Select(Payload).ToList();
        var deliveredBefore = (await stores.Announcements.CountsAsync(source.Id)).Delivered;

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.WebhookConcurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(webhookUrl) };
        await PostAllAsync(client, warm);
        var one = await PostAllAsync(client, single);
        var hundred = await PostAllAsync(client, batched);

        result.Add("single-status POSTs/s", one.PerSecond, "/s", "≥ 3,000/s", one.PerSecond >= 3_000);
        result.Add("single-status POST p50", one.P50, "ms");
        result.Add("single-status POST p99", one.P99, "ms", "≤ 20 ms", one.P99 <= 20);
        result.Add("100-status POSTs/s", hundred.PerSecond, "/s");
        result.Add("100-status POSTs: statuses/s", hundred.PerSecond * batchSize, "/s");
        result.Add("100-status POST p50", hundred.P50, "ms");
        result.Add("100-status POST p99", hundred.P99, "ms");
        var applied = (await stores.Announcements.CountsAsync(source.Id)).Delivered - deliveredBefore;
        result.Require("every POST answered 200", one.Failures + hundred.Failures == 0, $"{one.Failures + hundred.Failures} non-200 answers");
        result.Require("every status applied", applied == needed, $"delivered count +{applied} for {needed} statuses");
    }

    private static (string Id, string Body) Status(string announcementId, string employeeId, string messageId) =>
        (messageId, $$"""{"id":"{{messageId}}","status":"delivered","timestamp":"{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}","recipient_id":"{{Phone(employeeId)[1..]}}","biz_opaque_callback_data":"{{announcementId}}:{{employeeId}}"}""");

    private static (byte[] Body, string Signature) Payload((string Id, string Body)[] statuses)
    {
        var json = $$$"""{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000000","phone_number_id":"{{{WhatsAppStandIn.PhoneNumberId}}}"},"statuses":[{{{string.Join(',', statuses.Select(s => s.Body))}}}]}}]}]}""";
        var body = Encoding.UTF8.GetBytes(json);
        return (body, "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), body)));
    }

    private sealed record LoadResult(double PerSecond, double P50, double P99, int Failures);

    private async Task<LoadResult> PostAllAsync(HttpClient client, List<(byte[] Body, string Signature)> payloads)
    {
        var latencies = new double[payloads.Count];
        var failures = 0;
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.WebhookConcurrency).Select(async _ =>
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
        return new LoadResult(payloads.Count / elapsed, Percentile(latencies, 0.5), Percentile(latencies, 0.99), failures);
    }

    // ---- Plumbing --------------------------------------------------------------------------------------------------

    private static string EmployeeId(int i) => $"e{i:D6}";

    private static string Phone(string employeeId) => "+1650" + employeeId[1..].PadLeft(7, '0');

    private sealed record StoreSet(EmployeeStore Employees, AnnouncementStore Announcements, DeliveryStore Deliveries);

    private static StoreSet Stores(RedisProcess server)
    {
        var time = TimeProvider.System;
        return new StoreSet(new EmployeeStore(server.Db, time),
            new AnnouncementStore(server.Db, new AnnouncementQueue(server.Db, time), time),
            new DeliveryStore(server.Db));
    }

    /// <summary>Employees e000000… through EmployeeStore (the same Lua the API uses), many in flight at once; not timed.</summary>
    private static async Task SeedEmployeesAsync(RedisProcess server, int count)
    {
        var employees = Stores(server).Employees;
        foreach (var chunk in Enumerable.Range(0, count).Chunk(2_000))
        {
            await Task.WhenAll(chunk.Select(async i =>
            {
                var id = EmployeeId(i);
                var (outcome, _) = await employees.UpsertAsync(EmployerId, id, Phone(id), $"Employee {i}");
                if (outcome != UpsertResult.Created) throw new InvalidOperationException($"seeding {id}: {outcome}");
            }));
        }
    }

    private static async Task<string> CreateAnnouncementAsync(RedisProcess server, DateTimeOffset? sendAt, IReadOnlyList<string>? employeeIds)
    {
        var (outcome, id) = await Stores(server).Announcements.CreateAsync(new NewAnnouncement(EmployerId, Message, null, sendAt, employeeIds), null);
        if (outcome != CreateOutcome.Created) throw new InvalidOperationException($"announcement not created: {outcome}");
        return id;
    }

    /// <summary>Waits for the stand-in to see every send, then for the announcement to be completed; returns how many HGETs it made.</summary>
    private async Task<long> WaitForCompletionAsync(RedisProcess server, string id, int expectedSends, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (whatsApp.Count < expectedSends)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{whatsApp.Count} of {expectedSends} sends after {timeout.TotalSeconds:N0} s");
            await Task.Delay(5);
        }
        long polls = 0;
        while (true)
        {
            polls++;
            if ((string?)await server.Db.HashGetAsync(RedisKeys.Announcement(id), "status") == AnnouncementStatus.Completed) return polls;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"announcement {id} not completed after {timeout.TotalSeconds:N0} s");
            await Task.Delay(2);
        }
    }

    private async Task<ChildProcess[]> StartDispatchersAsync(RedisProcess server, int count, int? rate)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = server.ConnectionString,
            ["WhatsApp:BaseUrl"] = whatsApp.Url,
            ["WhatsApp:PhoneNumberId"] = WhatsAppStandIn.PhoneNumberId,
            ["WhatsApp:AccessToken"] = WhatsAppStandIn.AccessToken,
            ["WhatsApp:MessagesPerSecond"] = (rate ?? 1_000).ToString(CultureInfo.InvariantCulture),
            ["Dispatcher:Enabled"] = "true",
            [DispatcherRole.UnlimitedKey] = rate is null ? "true" : "false",
        };
        var processes = await Task.WhenAll(Enumerable.Range(0, count).Select(i => ChildProcess.StartDispatcherAsync($"dispatcher-{i + 1}", settings)));
        // "Send now" wakes dispatchers through pub/sub: start timing only once every one listens.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await server.Server.SubscriptionSubscriberCountAsync(RedisKeys.WakeUp) < count && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(300);
        return processes;
    }

    /// <summary>
    /// One small announcement per dispatcher, untimed, so the measured run is not a fresh process's first (JIT, first
    /// HTTP connection, Refit set-up; scenario 3 reports that cold start). Its employees belong to another employer,
    /// so they are not in the measured "all employees" audience.
    /// </summary>
    private async Task WarmUpAsync(RedisProcess server, int dispatchers)
    {
        const string warmUpEmployer = "bench-warmup";
        var stores = Stores(server);
        var ids = Enumerable.Range(0, 50).Select(i => $"w{i:D3}").ToList();
        foreach (var id in ids) await stores.Employees.UpsertAsync(warmUpEmployer, id, "+1999" + id[1..].PadLeft(7, '0'), null);
        whatsApp.Reset(ids.Count * dispatchers);
        // With the lock only one dispatcher works; the others stay warm enough on standby.
        var (_, announcement) = await stores.Announcements.CreateAsync(new NewAnnouncement(warmUpEmployer, Message, null, null, ids), null);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((string?)await server.Db.HashGetAsync(RedisKeys.Announcement(announcement), "status") != AnnouncementStatus.Completed && DateTime.UtcNow < deadline)
            await Task.Delay(10);
    }

    private static void CheckExactlyOnce(ScenarioResult result, SendLog log, int employees, DeliveryCounts counts)
    {
        result.Require("0 duplicates", log.Duplicates == 0, $"{log.Duplicates} duplicate sends");
        var reached = Enumerable.Range(0, employees).Count(i => log.PerRecipient.ContainsKey(Phone(EmployeeId(i))));
        result.Require("all delivered", reached == employees && counts.Sent == employees,
            $"{reached} of {employees} phones got it; sent count {counts.Sent}, failed {counts.Failed}, unknown {counts.Unknown}");
    }

    /// <summary>Average MEMORY USAGE of sampled delivery keys and of the wamid index keys next to them.</summary>
    private static async Task<(double Delivery, double Index)> SampleKeySizesAsync(RedisProcess server, string announcementId, int employees)
    {
        var random = new Random(7);
        var deliveries = Stores(server).Deliveries;
        long deliveryTotal = 0, indexTotal = 0;
        int samples = Math.Min(200, employees), indexed = 0;
        for (var s = 0; s < samples; s++)
        {
            var employee = EmployeeId(random.Next(employees));
            deliveryTotal += (long)await server.Db.ExecuteAsync("MEMORY", "USAGE", RedisKeys.Delivery(announcementId, employee).ToString(), "SAMPLES", "0");
            if ((await deliveries.GetAsync(announcementId, employee))?.MessageId is { } messageId)
            {
                var usage = await server.Db.ExecuteAsync("MEMORY", "USAGE", RedisKeys.MessageDelivery(messageId).ToString(), "SAMPLES", "0");
                if (!usage.IsNull)
                {
                    indexTotal += (long)usage;
                    indexed++;
                }
            }
        }
        return ((double)deliveryTotal / samples, indexed == 0 ? 0 : (double)indexTotal / indexed);
    }

    private async Task StartWebhookAsync()
    {
        var port = RedisProcess.FreePort();
        var url = $"http://127.0.0.1:{port}";
        try
        {
            webhook = ChildProcess.StartWebhook(url, new Dictionary<string, string?>
            {
                ["ConnectionStrings:Redis"] = redis.ConnectionString,
                ["WhatsApp:BaseUrl"] = whatsApp.Url,
                ["WhatsApp:PhoneNumberId"] = WhatsAppStandIn.PhoneNumberId,
                ["WhatsApp:AccessToken"] = WhatsAppStandIn.AccessToken,
                ["WhatsApp:AppSecret"] = AppSecret,
                ["WhatsApp:VerifyToken"] = "bench-verify-token",
                ["Dispatcher:Enabled"] = "false",
                [$"Employers:{EmployerId}:ApiKey"] = ApiKey,
            });
            using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
            client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                if (webhook.HasExited) throw new InvalidOperationException($"Bot.Webhook exited:\n{webhook.Tail()}");
                try
                {
                    using var ready = await client.GetAsync("/api/employees?limit=1");
                    if (ready.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException)
                {
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"Bot.Webhook did not answer within 30 s:\n{webhook.Tail()}");
                await Task.Delay(100);
            }
            using var probe = await client.PostAsync("/webhook", new StringContent("{}", Encoding.UTF8, "application/json"));
            webhookRouteExists = probe.StatusCode == HttpStatusCode.Unauthorized;
            if (!webhookRouteExists) webhookProblem = $"POST /webhook without a signature answered {(int)probe.StatusCode}, not 401: the webhook is not in this build";
            webhookUrl = url;
            Console.WriteLine($"Bot.Webhook {url} (process {webhook.Id}); POST /webhook {(webhookRouteExists ? "present" : "absent")}");
        }
        catch (Exception ex)
        {
            webhookProblem = $"Bot.Webhook could not be started: {ex.Message}";
            Console.Error.WriteLine(webhookProblem);
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private MachineInfo Machine()
    {
        var cpu = "";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
        }
        catch (IOException)
        {
        }
        return new MachineInfo(Environment.ProcessorCount, cpu, redisVersion, "--save \"\" --appendonly no (1c: --appendonly yes --appendfsync always)",
            RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription);
    }
}
