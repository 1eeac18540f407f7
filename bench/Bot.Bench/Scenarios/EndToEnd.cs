using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bot.Bench.Infrastructure;
using Bot.Core.Announcements;
using Bot.Core.Redis;

namespace Bot.Bench.Scenarios;

/// <summary>
/// Scenario 15, issue 28's black-box comparison: the project as users deploy it against BullMQ doing the same work.
/// Several employers (8), each with its own WhatsApp number capped at WhatsApp's 1,000 messages/s, 12,500 employees
/// each (100,000 deliveries), one "send now" announcement per employer to all its employees. The project: the built
/// Bot.Scheduler and Bot.Webhook as processes, the senders and employers in their configuration, the employees
/// imported through the API (untimed), timed from the first <c>POST /api/announcements</c> to every announcement
/// <c>completed</c> (<c>GET /api/announcements/{id}</c>). BullMQ (bench/peers/bullmq <c>--queues</c>): a queue per number,
/// each with a Worker rate-limited to the same cap, timed from its first add to its last completed job; once keeping
/// completed jobs, once removing them. Both keep 64 requests in flight per number (the project's
/// <c>Dispatcher:MaxConcurrentSends</c>, each Worker's concurrency) and run on a fresh redis-server with AOF
/// <c>appendfsync always</c>. Alternately, <c>--rounds</c> times, so the machine's noise falls on every side. Reports
/// deliveries/s, the ratios (targets: ≥ 2.0× BullMQ keeping completed jobs, ≥ 1.6× removing them) and each process's
/// CPU per delivery; every phone must get exactly one message on every side.
/// </summary>
public static class EndToEnd
{
    private static readonly string[] Aof = ["--appendonly", "yes", "--appendfsync", "always"];
    private const int Concurrency = 64;

    /// <summary>Untimed deliveries per number before each side is timed: <see cref="BenchOptions.CappedWarmUpDeliveries"/> in all.</summary>
    private static int WarmUpPerNumber(BenchOptions options, int senders) => Math.Max(1, options.CappedWarmUpDeliveries / senders);

    /// <summary>One measured run: deliveries/s and the CPU µs per delivery of each process that did the work.</summary>
    private sealed record Run(double Rate, Dictionary<string, double> CpuPerDelivery);

    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        var options = world.Options;
        var senders = options.EndToEndSenders;
        var per = options.EndToEndEmployeesPerSender;
        result.Settings["senders × employees"] = $"{senders} × {per:N0} = {senders * per:N0} deliveries, one announcement per employer, created together";
        result.Settings["rate cap"] = $"{options.RateCap}/s per number (Senders:<id>:MessagesPerSecond; BullMQ limiter {{ max: {options.RateCap}, duration: 1000 }})";
        result.Settings["in flight"] = $"{Concurrency} per number: Dispatcher:MaxConcurrentSends={Concurrency} (per announcement, default 32), Worker concurrency {Concurrency}";
        result.Settings["project"] = "built Bot.Scheduler (1 replica) and Bot.Webhook as processes; employees imported with POST /api/employees/import (untimed)";
        result.Settings["peer"] = $"bench/peers/bullmq --queues {senders}: a queue and a Worker per number, Queue.addBulk (1,000 jobs a call, jobId dedupe), " +
            "a POST per job over a keep-alive http.Agent per Worker; completed jobs kept, then removed (removeOnComplete)";
        result.Settings["redis"] = "a fresh redis-server per run: --save \"\" " + string.Join(' ', Aof);

        // CI's smoke (--quick) checks the project's deliveries only: it needs neither node nor the npm registry.
        var variants = options.Quick ? [] : PeerComparison.Variants;
        var ours = new List<Run>();
        var theirs = variants.ToDictionary(v => v.Name, _ => new List<Run>());
        for (var round = 1; round <= options.EndToEndRounds; round++)
        {
            await using (var server = await RedisProcess.StartAsync(Aof))
            {
                var load = BenchWorld.LoadAverage();
                ours.Add(await ProjectRunAsync(world, result, server, $"round {round}, project: "));
                result.Notes.Add($"round {round}: project {ours[^1].Rate:N0}/s (load average before: {load})");
            }
            foreach (var variant in variants)
            {
                await using var server = await RedisProcess.StartAsync(Aof);
                var load = BenchWorld.LoadAverage();
                var run = await PeerRunAsync(world, result, server, variant.KeepCompleted, $"round {round}, BullMQ {variant.Name}: ");
                theirs[variant.Name].Add(run);
                result.Notes.Add($"round {round}: BullMQ {variant.Name} {run.Rate:N0}/s (load average before: {load})");
            }
        }

        var project = ours.Average(r => r.Rate);
        result.Add($"project deliveries/s (first create → all completed, mean of {ours.Count})", project, "/s");
        foreach (var variant in variants)
        {
            var peer = theirs[variant.Name].Average(r => r.Rate);
            result.Add($"BullMQ deliveries/s, {variant.Name} (first add → last completed, mean of {theirs[variant.Name].Count})", peer, "/s");
            var ratio = project / peer;
            result.Add($"ratio project / BullMQ {variant.Name}", ratio, "×", $"≥ {variant.Target:0.0}×", ratio >= variant.Target);
        }
        AddCpu(result, "project", ours);
        foreach (var variant in variants) AddCpu(result, $"BullMQ {variant.Name}", theirs[variant.Name]);
    }

    /// <summary>Mean CPU µs per delivery of each process, and their sum.</summary>
    private static void AddCpu(ScenarioResult result, string side, List<Run> runs)
    {
        foreach (var process in runs[0].CpuPerDelivery.Keys)
            result.Add($"CPU per delivery, {side}: {process}", runs.Average(r => r.CpuPerDelivery[process]), "µs");
        result.Add($"CPU per delivery, {side}: all of them", runs.Average(r => r.CpuPerDelivery.Values.Sum()), "µs");
    }

    private static async Task<Run> ProjectRunAsync(BenchWorld world, ScenarioResult result, RedisProcess server, string label)
    {
        var options = world.Options;
        var (senders, per) = (options.EndToEndSenders, options.EndToEndEmployeesPerSender);
        var total = senders * per;
        var settings = HostSettings(world, server, senders);

        await using var scheduler = ChildProcess.StartScheduler(settings);
        // "Send now" wakes the dispatcher through pub/sub: nothing is created before it listens.
        await WaitUntilAsync(async () => await server.Server.SubscriptionSubscriberCountAsync(RedisKeys.WakeUp) >= 1, scheduler, TimeSpan.FromSeconds(30));
        var url = $"http://127.0.0.1:{RedisProcess.FreePort()}";
        await using var webhook = ChildProcess.StartWebhook(url, settings);
        using var api = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        await WaitUntilAsync(async () =>
        {
            try
            {
                using var request = Request(HttpMethod.Get, "/api/employer", ApiKeyOf(0));
                using var answer = await api.SendAsync(request);
                return answer.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, webhook, TimeSpan.FromSeconds(30));

        for (var k = 0; k < senders; k++) await ImportAsync(api, k, per);

        // An announcement per employer first, untimed (BenchOptions.CappedWarmUpDeliveries in all, as BullMQ's warm-up): no fresh
        // process's first (JIT, connections, sender locks).
        var warmUpPerEmployer = WarmUpPerNumber(world.Options, senders);
        world.WhatsApp.Reset(senders * warmUpPerEmployer);
        var warmUp = await Task.WhenAll(Enumerable.Range(0, senders).Select(k =>
            CreateAsync(api, k, [.. Enumerable.Range(k * per, warmUpPerEmployer).Select(BenchWorld.EmployeeId)])));
        await WaitForCompletionAsync(world, api, warmUp, 0, TimeSpan.FromSeconds(30));

        world.WhatsApp.Reset(total);
        int[] pids = [scheduler.Id, webhook.Id, server.ProcessId];
        var before = pids.Select(CpuMeter.ProcessTicks).ToArray();
        var clock = Stopwatch.StartNew();
        var ids = await Task.WhenAll(Enumerable.Range(0, senders).Select(k => CreateAsync(api, k, null)));
        var sent = await WaitForCompletionAsync(world, api, ids, total, TimeSpan.FromSeconds(60 + total / 500.0));
        var elapsed = clock.Elapsed;
        var after = pids.Select(CpuMeter.ProcessTicks).ToArray();

        var log = world.WhatsApp.Snapshot();
        CheckExactlyOnce(result, log, total, sent, label, "counted sent by the API");
        AddBusiestSecond(result, log, label, options.RateCap);
        var rate = total / elapsed.TotalSeconds;
        result.Add($"{label}deliveries/s", rate, "/s");
        return new Run(rate, new Dictionary<string, double>
        {
            ["Bot.Scheduler"] = Micros(after[0] - before[0], total),
            ["Bot.Webhook"] = Micros(after[1] - before[1], total),
            ["redis-server"] = Micros(after[2] - before[2], total),
        });
    }

    /// <summary>
    /// Both hosts' configuration, as a deployment's environment would carry it: employer <c>bench-s{k}</c> (its own API
    /// key) sends from sender <c>s{k}</c>, a number of its own at WhatsApp's cap; no default sender.
    /// </summary>
    private static Dictionary<string, string?> HostSettings(BenchWorld world, RedisProcess server, int senders)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = server.ConnectionString,
            ["WhatsApp:BaseUrl"] = world.WhatsApp.Url,
            ["WhatsApp:AppSecret"] = BenchWorld.AppSecret,
            ["WhatsApp:VerifyToken"] = "bench-verify-token",
            ["Dispatcher:MaxConcurrentSends"] = Concurrency.ToString(CultureInfo.InvariantCulture),
        };
        for (var k = 0; k < senders; k++)
        {
            settings[$"Senders:{SenderOf(k)}:PhoneNumberId"] = PhoneNumberIdOf(k);
            settings[$"Senders:{SenderOf(k)}:AccessToken"] = BenchWorld.AccessToken;
            settings[$"Senders:{SenderOf(k)}:MessagesPerSecond"] = world.Options.RateCap.ToString(CultureInfo.InvariantCulture);
            settings[$"Employers:{EmployerOf(k)}:Sender"] = SenderOf(k);
            settings[$"Employers:{EmployerOf(k)}:ApiKey"] = ApiKeyOf(k);
        }
        return settings;
    }

    /// <summary>Employer <paramref name="k"/>'s employees, e(k × per)… with phones of their own, in one CSV import.</summary>
    private static async Task ImportAsync(HttpClient api, int k, int per)
    {
        var csv = new StringBuilder("employeeId,phone\n");
        foreach (var i in Enumerable.Range(k * per, per)) csv.Append(BenchWorld.EmployeeId(i)).Append(',').Append(PhoneOf(i)).Append('\n');
        using var request = Request(HttpMethod.Post, "/api/employees/import", ApiKeyOf(k));
        request.Content = new StringContent(csv.ToString(), Encoding.UTF8, "text/csv");
        var answer = await SendAsync(api, request, HttpStatusCode.OK);
        var created = answer.GetProperty("created").GetInt32();
        if (created != per) throw new InvalidOperationException($"import for {EmployerOf(k)}: {created} of {per} created: {answer}");
    }

    /// <summary>"Send now" for employer <paramref name="k"/>, to everyone or to <paramref name="employeeIds"/>.</summary>
    private static async Task<(int Employer, string Id)> CreateAsync(HttpClient api, int k, string[]? employeeIds)
    {
        using var request = Request(HttpMethod.Post, "/api/announcements", ApiKeyOf(k));
        request.Content = JsonContent.Create(new { message = BenchWorld.Message, employeeIds });
        var answer = await SendAsync(api, request, HttpStatusCode.Accepted);
        return (k, answer.GetProperty("id").GetString()!);
    }

    /// <summary>
    /// Waits for the stand-in to see every send, then for the API to show each announcement completed; returns the
    /// sum of their <c>counts.sent</c>.
    /// </summary>
    private static async Task<int> WaitForCompletionAsync(BenchWorld world, HttpClient api, (int Employer, string Id)[] ids, int expectedSends, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (world.WhatsApp.Count < expectedSends)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{world.WhatsApp.Count} of {expectedSends} sends after {timeout.TotalSeconds:N0} s");
            await Task.Delay(5);
        }
        var sent = 0;
        foreach (var (k, id) in ids)
        {
            while (true)
            {
                using var request = Request(HttpMethod.Get, $"/api/announcements/{id}", ApiKeyOf(k));
                var announcement = await SendAsync(api, request, HttpStatusCode.OK);
                var status = announcement.GetProperty("status").GetString();
                if (status == AnnouncementStatus.Completed)
                {
                    sent += announcement.GetProperty("counts").GetProperty("sent").GetInt32();
                    break;
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"announcement {id} is {status} after {timeout.TotalSeconds:N0} s");
                await Task.Delay(5);
            }
        }
        return sent;
    }

    /// <summary>
    /// BullMQ's run on <paramref name="server"/>: its deliveries/s (first add → last completed, as fanout.mjs times it),
    /// after checking each phone got exactly one message, and the CPU per delivery of node and redis-server.
    /// </summary>
    private static async Task<Run> PeerRunAsync(BenchWorld world, ScenarioResult result, RedisProcess server, bool keepCompleted, string label)
    {
        var options = world.Options;
        var senders = options.EndToEndSenders;
        var total = senders * options.EndToEndEmployeesPerSender;
        world.WhatsApp.Reset(total);
        await using var peer = await ChildProcess.StartPeerAsync("bullmq",
            ["--redis", server.ConnectionString, "--whatsapp", world.WhatsApp.Url, "--token", BenchWorld.AccessToken,
             "--queues", senders.ToString(CultureInfo.InvariantCulture),
             "--phone-number-id", string.Join(',', Enumerable.Range(0, senders).Select(PhoneNumberIdOf)),
             "--rate", options.RateCap.ToString(CultureInfo.InvariantCulture), "--concurrency", Concurrency.ToString(CultureInfo.InvariantCulture),
             "--phone-prefix", "+16502", "--count", total.ToString(CultureInfo.InvariantCulture), "--keep-completed", keepCompleted ? "true" : "false",
             "--warm-up", WarmUpPerNumber(options, senders).ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(3));
        world.WhatsApp.Reset(total);
        int[] pids = [peer.Id, server.ProcessId];
        var before = pids.Select(CpuMeter.ProcessTicks).ToArray();
        var answer = await peer.AskAsync("go", TimeSpan.FromSeconds(120 + total / 200.0));
        var after = pids.Select(CpuMeter.ProcessTicks).ToArray();

        using var json = JsonDocument.Parse(answer["result ".Length..]);
        var seconds = json.RootElement.GetProperty("seconds").GetDouble();
        var failed = json.RootElement.GetProperty("failed").GetInt32();
        var log = world.WhatsApp.Snapshot();
        CheckExactlyOnce(result, log, total, total - failed, label, "jobs completed");
        AddBusiestSecond(result, log, label, world.Options.RateCap);
        var rate = total / seconds;
        result.Add($"{label}deliveries/s", rate, "/s");
        return new Run(rate, new Dictionary<string, double>
        {
            ["node (producer + workers)"] = Micros(after[0] - before[0], total),
            ["redis-server"] = Micros(after[1] - before[1], total),
        });
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string apiKey)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", apiKey);
        return request;
    }

    private static async Task<JsonElement> SendAsync(HttpClient api, HttpRequestMessage request, HttpStatusCode expected)
    {
        using var response = await api.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails at once when <paramref name="process"/> exits.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, ChildProcess process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.Name} exited:\n{process.Tail()}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{process.Name} not ready within {timeout.TotalSeconds:N0} s:\n{process.Tail()}");
            await Task.Delay(50);
        }
    }

    /// <summary>/proc clock ticks (1/100 s) as µs per delivery.</summary>
    private static double Micros(long ticks, int deliveries) => ticks * 1e4 / deliveries;

    private static string SenderOf(int k) => $"s{k + 1}";

    private static string EmployerOf(int k) => $"bench-s{k + 1}";

    private static string ApiKeyOf(int k) => $"bench-e2e-api-key-{k + 1:D4}";

    private static string PhoneNumberIdOf(int k) => $"1000000000{k:D5}";

    /// <summary>
    /// Employee i's phone, +1 650 2xx xxxx: one the API's libphonenumber check accepts (BenchWorld.Phone's 650 0xx is
    /// not a valid US number), the same as fanout.mjs's with <c>--phone-prefix +16502</c>.
    /// </summary>
    private static string PhoneOf(int i) => $"+16502{i:D6}";

    /// <summary>
    /// The most requests one number sent within any one second (sliding): WhatsApp counts its cap that way, so a side
    /// over the cap here would have had some of them refused (130429) by the real API.
    /// </summary>
    private static void AddBusiestSecond(ScenarioResult result, SendLog log, string label, int cap) =>
        result.Add($"{label}busiest one-second window of a number (cap {cap})", log.LargestOneSecondWindowOfANumber(), "sends");

    /// <summary>Every employee's phone got exactly one message, and the side counted them all as sent.</summary>
    private static void CheckExactlyOnce(ScenarioResult result, SendLog log, int total, int sent, string label, string counted)
    {
        result.Require(label + "0 duplicates", log.Duplicates == 0, $"{log.Duplicates} duplicate sends");
        var reached = Enumerable.Range(0, total).Count(i => log.PerRecipient.ContainsKey(PhoneOf(i)));
        result.Require(label + "all delivered", reached == total && sent == total, $"{reached} of {total} phones got it; {sent} {counted}");
    }
}
