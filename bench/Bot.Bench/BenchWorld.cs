using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Bot.Bench.Infrastructure;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.Tools.WhatsAppStub;
using StackExchange.Redis;

namespace Bot.Bench;

/// <summary>
/// What every scenario shares: one redis-server (started here, no persistence), the WhatsApp stand-in, the built
/// Bot.Webhook as a process (when a scenario needs it), dispatcher replicas as processes of this program
/// (<see cref="DispatcherRole"/>), seeding through the Bot.Core stores (never timed) and the report.
/// </summary>
public sealed class BenchWorld : IAsyncDisposable
{
    public const string EmployerId = "bench";
    public const string ApiKey = "bench-api-key-0123456789";
    public const string AppSecret = "bench-app-secret";
    public const string AccessToken = "bench-access-token";
    public const string Message = "Our end of year party is on Saturday evening!";

    private readonly List<ScenarioResult> results = [];
    private readonly DateTimeOffset started = DateTimeOffset.UtcNow;
    private readonly string redisVersion;

    private BenchWorld(BenchOptions options, RedisProcess redis, WhatsAppStandIn whatsApp, string redisVersion, WebhookProcess webhook)
    {
        Options = options;
        Redis = redis;
        WhatsApp = whatsApp;
        Webhook = webhook;
        this.redisVersion = redisVersion;
    }

    public BenchOptions Options { get; }
    public RedisProcess Redis { get; }
    public WhatsAppStandIn WhatsApp { get; }

    /// <summary>The built Bot.Webhook, when scenario 3, 6, 9 or 14 runs; otherwise (or when it failed to start) its Problem says why not.</summary>
    public WebhookProcess Webhook { get; }

    public static async Task<BenchWorld> StartAsync(BenchOptions options)
    {
        Console.WriteLine($"Bot.Bench {(options.Quick ? "--quick" : "full run")}: {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        var redis = await RedisProcess.StartAsync();
        var whatsApp = await WhatsAppStandIn.StartAsync();
        var version = await redis.VersionAsync();
        Console.WriteLine($"redis-server {version} ({redis.Description}); WhatsApp stand-in {whatsApp.Url}");
        var webhook = options.Runs(3) || options.Runs(6) || options.Runs(9) || options.Runs(14)
            ? await WebhookProcess.StartAsync(WhatsAppSettings(redis, whatsApp))
            : WebhookProcess.NotStarted("no scenario needs it");
        return new BenchWorld(options, redis, whatsApp, version, webhook);
    }

    /// <summary>Runs one scenario: times it, meters the CPU others used meanwhile, records a thrown exception as a failed check.</summary>
    public async Task ScenarioAsync(string id, string title, Func<ScenarioResult, Task> body)
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
        if (Options.Quick)
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

    /// <summary>Prints the table, writes the JSON file; 0 when every correctness check passed.</summary>
    public async Task<int> ReportAsync()
    {
        var report = new BenchReport(Options.Quick ? "quick" : "full", started, DateTimeOffset.UtcNow, Machine(), results);
        Console.WriteLine();
        Console.Write(ReportWriter.Table(report));
        await ReportWriter.WriteJsonAsync(report, Options.Output);
        Console.WriteLine($"results: {Options.Output}");

        var failed = results.SelectMany(r => r.Checks.Where(c => !c.Passed).Select(c => $"{r.Id} {c.Name}: {c.Detail}")).ToList();
        foreach (var failure in failed) Console.Error.WriteLine($"bench correctness FAILED: {failure}");
        Console.WriteLine(failed.Count == 0 ? "bench: correctness ok (0 duplicates, all delivered)" : $"bench: {failed.Count} correctness check(s) failed");
        return failed.Count == 0 ? 0 : 1;
    }

    public static string EmployeeId(int i) => $"e{i:D6}";

    public static string Phone(string employeeId) => "+1650" + employeeId[1..].PadLeft(7, '0');

    public sealed record StoreSet(EmployeeStore Employees, AnnouncementStore Announcements, DeliveryStore Deliveries);

    public static StoreSet Stores(RedisProcess server) => Stores(server.Db);

    public static StoreSet Stores(IDatabase db)
    {
        var time = TimeProvider.System;
        return new StoreSet(new EmployeeStore(db, time), new AnnouncementStore(db, new AnnouncementQueues(db, time), time), new DeliveryStore(db));
    }

    /// <summary>
    /// Employees e000000… (from <paramref name="first"/> on) of <paramref name="employerId"/> through EmployeeStore (the
    /// same Lua the API uses), many in flight at once; not timed. Employers get disjoint ranges, so every phone is one
    /// employee's and the stand-in's count per phone still finds a duplicate.
    /// </summary>
    public static Task SeedEmployeesAsync(RedisProcess server, int count, string employerId = EmployerId, int first = 0) =>
        SeedEmployeesAsync(server.Db, count, employerId, first);

    public static async Task SeedEmployeesAsync(IDatabase db, int count, string employerId = EmployerId, int first = 0)
    {
        var employees = Stores(db).Employees;
        foreach (var chunk in Enumerable.Range(first, count).Chunk(2_000))
        {
            await Task.WhenAll(chunk.Select(async i =>
            {
                var id = EmployeeId(i);
                var (outcome, _) = await employees.UpsertAsync(employerId, id, Phone(id), $"Employee {i}");
                if (outcome != UpsertResult.Created) throw new InvalidOperationException($"seeding {id}: {outcome}");
            }));
        }
    }

    public static async Task<string> CreateAnnouncementAsync(RedisProcess server, DateTimeOffset? sendAt, IReadOnlyList<string>? employeeIds, string employerId = EmployerId)
    {
        var (outcome, id) = await Stores(server).Announcements.CreateAsync(new NewAnnouncement(employerId, Message, null, sendAt, employeeIds), null);
        if (outcome != CreateOutcome.Created) throw new InvalidOperationException($"announcement not created: {outcome}");
        return id;
    }

    /// <summary>Waits for the stand-in to see every send, then for the announcement to be completed; returns how many HGETs it made.</summary>
    public async Task<long> WaitForCompletionAsync(RedisProcess server, string id, int expectedSends, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (WhatsApp.Count < expectedSends)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{WhatsApp.Count} of {expectedSends} sends after {timeout.TotalSeconds:N0} s");
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

    /// <summary>Dispatcher replicas against <paramref name="server"/>; <paramref name="rate"/> null replaces the rate limiter by one that never waits.</summary>
    public async Task<ChildProcess[]> StartDispatchersAsync(RedisProcess server, int count, int? rate, IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = WhatsAppSettings(server, WhatsApp);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) settings[key] = value;
        settings["WhatsApp:MessagesPerSecond"] = (rate ?? 1_000).ToString(CultureInfo.InvariantCulture);
        settings["Dispatcher:Enabled"] = "true";
        settings[DispatcherRole.UnlimitedKey] = rate is null ? "true" : "false";
        var processes = await Task.WhenAll(Enumerable.Range(0, count).Select(i => ChildProcess.StartDispatcherAsync($"dispatcher-{i + 1}", settings)));
        // "Send now" wakes dispatchers through pub/sub: start timing only once every one listens.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await server.Server.SubscriptionSubscriberCountAsync(RedisKeys.WakeUp) < count && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(300);
        return processes;
    }

    /// <summary>
    /// One announcement per dispatcher, untimed, so the measured run is not a fresh process's first: its connections
    /// made, and long enough (<paramref name="deliveries"/>, <see cref="BenchOptions.WarmUpDeliveries"/> uncapped) for the
    /// tiered JIT to have recompiled the hot path, so what is measured is the steady state (scenario 3 reports the cold
    /// start). It goes to all of another employer's employees, so it takes the measured run's path without being in its
    /// audience.
    /// </summary>
    public async Task WarmUpAsync(RedisProcess server, int dispatchers, int deliveries)
    {
        const string warmUpEmployer = "bench-warmup";
        var stores = Stores(server);
        var ids = Enumerable.Range(0, deliveries).Select(i => $"w{i:D4}").ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (id, _) => await stores.Employees.UpsertAsync(warmUpEmployer, id, WarmUpPhone(id), null));
        WhatsApp.Reset(ids.Count * dispatchers);
        // With the lock only one dispatcher works; the others stay warm enough on standby.
        var (_, announcement) = await stores.Announcements.CreateAsync(new NewAnnouncement(warmUpEmployer, Message, null, null, null), null);
        var deadline = DateTime.UtcNow.AddSeconds(30 + deliveries / 1_000.0);
        while ((string?)await server.Db.HashGetAsync(RedisKeys.Announcement(announcement), "status") != AnnouncementStatus.Completed)
        {
            // Still sending, it would be measured with the timed run.
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The warm-up of {deliveries:N0} deliveries did not complete by {deadline:T}.");
            await Task.Delay(10);
        }
    }

    /// <summary>A warm-up employee's phone: +1999 and the id's digits (bench/peers/bullmq warms up on the same ones).</summary>
    public static string WarmUpPhone(string id) => "+1999" + id[1..].PadLeft(7, '0');

    /// <summary>CI's gate: every employee got exactly one message and the announcement counted them all as sent.</summary>
    public static void CheckExactlyOnce(ScenarioResult result, SendLog log, int employees, DeliveryCounts counts) =>
        CheckExactlyOnce(result, log, employees, [counts], "");

    /// <summary>
    /// The same for employees 0…<paramref name="employees"/>−1 each in exactly one of several announcements, whose
    /// counts are <paramref name="counts"/>; <paramref name="label"/> tells the checks of several runs apart.
    /// </summary>
    public static void CheckExactlyOnce(ScenarioResult result, SendLog log, int employees, IReadOnlyCollection<DeliveryCounts> counts, string label)
    {
        result.Require(label + "0 duplicates", log.Duplicates == 0, $"{log.Duplicates} duplicate sends");
        var reached = Enumerable.Range(0, employees).Count(i => log.PerRecipient.ContainsKey(Phone(EmployeeId(i))));
        var (sent, failed, unknown) = (counts.Sum(c => c.Sent), counts.Sum(c => c.Failed), counts.Sum(c => c.Unknown));
        result.Require(label + "all delivered", reached == employees && sent == employees,
            $"{reached} of {employees} phones got it; sent count {sent}, failed {failed}, unknown {unknown}");
    }

    public async ValueTask DisposeAsync()
    {
        await Webhook.DisposeAsync();
        await WhatsApp.DisposeAsync();
        await Redis.DisposeAsync();
    }

    private static Dictionary<string, string?> WhatsAppSettings(RedisProcess redis, WhatsAppStandIn whatsApp) => new()
    {
        ["ConnectionStrings:Redis"] = redis.ConnectionString,
        ["WhatsApp:BaseUrl"] = whatsApp.Url,
        ["WhatsApp:PhoneNumberId"] = WhatsAppStubServer.PhoneNumberId,
        ["WhatsApp:AccessToken"] = AccessToken,
    };

    /// <summary>The 1, 5 and 15 minute load averages, as /proc/loadavg gives them (empty where there is none).</summary>
    public static string LoadAverage()
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

/// <summary>The built Bot.Webhook (employer API and webhook) as its own process, or why it is not there.</summary>
public sealed class WebhookProcess : IAsyncDisposable
{
    private readonly ChildProcess? process;

    private WebhookProcess(ChildProcess? process, string? url, bool hasWebhookRoute, string? problem)
    {
        this.process = process;
        Url = url;
        HasWebhookRoute = hasWebhookRoute;
        Problem = problem;
    }

    public string? Url { get; }
    public bool HasWebhookRoute { get; }
    public string? Problem { get; }
    public int? ProcessId => process?.Id;

    /// <summary>The process's resident set size now (VmRSS), in bytes; 0 when it is not running.</summary>
    public long Rss() => process?.Rss() ?? 0;

    public static WebhookProcess NotStarted(string why) => new(null, null, false, why);

    public static async Task<WebhookProcess> StartAsync(Dictionary<string, string?> whatsApp)
    {
        var url = $"http://127.0.0.1:{RedisProcess.FreePort()}";
        ChildProcess? webhook = null;
        try
        {
            webhook = ChildProcess.StartWebhook(url, new Dictionary<string, string?>(whatsApp)
            {
                ["WhatsApp:AppSecret"] = BenchWorld.AppSecret,
                ["WhatsApp:VerifyToken"] = "bench-verify-token",
                ["Dispatcher:Enabled"] = "false",
                // The bot's replies (scenario 6) at WhatsApp's top tier, so their figure is the outbox's, not the cap's.
                ["WhatsApp:MessagesPerSecond"] = "1000",
                [$"Employers:{BenchWorld.EmployerId}:ApiKey"] = BenchWorld.ApiKey,
                // Scenario 14's endpoint is a receiver on loopback, plain http.
                ["Webhooks:AllowHttp"] = "true",
            });
            using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
            client.DefaultRequestHeaders.Add("X-Api-Key", BenchWorld.ApiKey);
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
            var routeExists = probe.StatusCode == HttpStatusCode.Unauthorized;
            Console.WriteLine($"Bot.Webhook {url} (process {webhook.Id}); POST /webhook {(routeExists ? "present" : "absent")}");
            return new WebhookProcess(webhook, url, routeExists,
                routeExists ? null : $"POST /webhook without a signature answered {(int)probe.StatusCode}, not 401: the webhook is not in this build");
        }
        catch (Exception ex)
        {
            if (webhook is not null) await webhook.DisposeAsync();
            var problem = $"Bot.Webhook could not be started: {ex.Message}";
            Console.Error.WriteLine(problem);
            return NotStarted(problem);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null) await process.DisposeAsync();
    }
}
