using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Employees;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.FaultTests;

/// <summary>
/// A fault test's world: its own redis-server, three-master Redis Cluster (with or without a replica per master), or
/// primary and replica behind three Sentinels (AOF with appendfsync always, as shipped), WireMock as WhatsApp, and
/// dispatcher processes it starts, kills and terminates.
/// </summary>
public sealed class FaultWorld : IAsyncDisposable
{
    public const string EmployerId = "acme";

    private readonly List<HostProcess> processes = [];

    private readonly RedisServer? redis;
    private readonly RedisCluster? cluster;
    private readonly RedisSentinels? sentinels;

    private FaultWorld(RedisServer? redis, RedisCluster? cluster, WhatsAppStub? stub = null, RedisSentinels? sentinels = null) =>
        (this.redis, this.cluster, this.sentinels, Stub) = (redis, cluster, sentinels, stub ?? new());

    public RedisServer Redis => redis ?? throw new InvalidOperationException("This world runs on a Redis Cluster.");
    public RedisCluster Cluster => cluster ?? throw new InvalidOperationException("This world runs on one Redis.");
    public RedisSentinels Sentinels => sentinels ?? throw new InvalidOperationException("This world runs without Sentinels.");
    public WhatsAppStub Stub { get; }
    public IDatabase Db => (redis?.Connection ?? sentinels?.Connection ?? Cluster.Connection).GetDatabase();
    public IReadOnlyList<HostProcess> Processes => processes;

    /// <param name="stub">WhatsApp, when the test needs one of its own (e.g. in world mode); the shipped stub otherwise.</param>
    public static async Task<FaultWorld> StartAsync(WhatsAppStub? stub = null) =>
        new(await RedisServer.StartAsync("--appendonly yes --appendfsync always"), null, stub);

    public static async Task<FaultWorld> StartOnClusterAsync() => new(null, await RedisCluster.StartAsync());

    /// <summary>Three masters with a replica each (six processes, cluster-node-timeout 2 s).</summary>
    public static async Task<FaultWorld> StartOnClusterWithReplicasAsync() => new(null, await RedisCluster.StartWithReplicasAsync());

    /// <summary>A primary and its replica behind three Sentinels; the dispatchers connect through the Sentinels.</summary>
    public static async Task<FaultWorld> StartOnSentinelsAsync() => new(null, null, sentinels: await RedisSentinels.StartAsync());

    /// <summary>Settings every dispatcher process gets; tests add or override.</summary>
    public Dictionary<string, string> Settings(IDictionary<string, string>? overrides = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = $"{redis?.ConnectionString ?? sentinels?.ConnectionString ?? Cluster.ConnectionString},connectTimeout=1000",
            ["WhatsApp:BaseUrl"] = Stub.Url,
            ["WhatsApp:PhoneNumberId"] = WhatsAppStub.PhoneNumberId,
            ["WhatsApp:AccessToken"] = WhatsAppStub.AccessToken,
            ["WhatsApp:MessagesPerSecond"] = "1000",
            // The stub answers at once: a send that times out here was starved of CPU, not slow at WhatsApp.
            ["WhatsApp:Timeout"] = "00:00:10",
            ["Dispatcher:PollInterval"] = "00:00:00.200",
            ["Dispatcher:LockExpiry"] = "00:00:03",
            ["Dispatcher:RetryBaseDelay"] = "00:00:00.100",
            ["Dispatcher:RetryMaxDelay"] = "00:00:02",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) settings[key] = value;
        return settings;
    }

    /// <summary>The live process holding a sender's dispatch lock now (the default sender's unless named), found through the lock key's value.</summary>
    public Task<HostProcess?> LockHolderAsync(TimeSpan timeout, IDatabase? lockDb = null, string senderId = "default") =>
        Eventually.WaitAsync(async () =>
        {
            var lockId = (string?)await (lockDb ?? Db).StringGetAsync($"redlock:{RedisKeys.DispatchLock(senderId)}");
            return lockId is null ? null : processes.SingleOrDefault(p => !p.HasExited && p.Acquired(lockId));
        }, p => p is not null, timeout, "a live lock holder");

    public HostProcess StartDispatcher(IDictionary<string, string>? overrides = null)
    {
        var process = HostProcess.StartScheduler(Settings(overrides));
        processes.Add(process);
        return process;
    }

    public HostProcess[] StartDispatchers(int count, IDictionary<string, string>? overrides = null) =>
        [.. Enumerable.Range(0, count).Select(_ => StartDispatcher(overrides))];

    /// <summary>Employees e00001… with phones +1650555xxxx (seeding is not under test: written directly).</summary>
    public async Task<List<string>> SeedEmployeesAsync(int count)
    {
        var store = new EmployeeStore(Db, TimeProvider.System);
        var phones = Enumerable.Range(1, count).Select(Phone).ToList();
        foreach (var chunk in Enumerable.Range(1, count).Chunk(500))
            await Task.WhenAll(chunk.Select(i => store.UpsertAsync(EmployerId, $"e{i:D5}", Phone(i), null)));
        return phones;
    }

    public static string Phone(int i) => $"+1650{5550000 + i:D7}";

    /// <param name="senderId">The sender the employer is on (its queue): the default one unless the test configures another.</param>
    public async Task<string> AnnounceAsync(string message, DateTimeOffset? sendAt = null, string senderId = AnnouncementQueues.DefaultSender)
    {
        var store = new AnnouncementStore(Db, new AnnouncementQueues(Db, TimeProvider.System), TimeProvider.System);
        var (_, id) = await store.CreateAsync(new NewAnnouncement(EmployerId, message, null, sendAt, null), null, senderId);
        return id;
    }

    public async Task<(string Status, DeliveryCounts Counts)> ReadAsync(string id)
    {
        var store = new AnnouncementStore(Db, new AnnouncementQueues(Db, TimeProvider.System), TimeProvider.System);
        var announcement = await store.GetAsync(id) ?? throw new InvalidOperationException($"announcement {id} is gone");
        return (announcement.Status, announcement.Counts);
    }

    public Task<(string Status, DeliveryCounts Counts)> WaitForCompletedAsync(string id, TimeSpan timeout) =>
        Eventually.WaitAsync(() => ReadAsync(id), a => a.Status == AnnouncementStatus.Completed, timeout, $"announcement {id} completed");

    /// <summary>
    /// The promise, checked: no phone got a second accepted message, and every target settled in exactly one
    /// state with the counts adding up.
    /// </summary>
    public async Task<DeliveryCounts> AssertExactlyOnceAsync(string id, int targeted)
    {
        var accepted = Stub.Accepted.Where(s => s.CallbackData?.StartsWith($"{id}:", StringComparison.Ordinal) == true).ToList();
        var duplicates = accepted.GroupBy(s => s.To).Where(g => g.Count() > 1).Select(g => $"{g.Key}×{g.Count()}").ToList();
        Assert.True(duplicates.Count == 0, $"duplicate accepted sends: {string.Join(", ", duplicates.Take(20))}");
        var (status, counts) = await ReadAsync(id);
        Assert.Equal(AnnouncementStatus.Completed, status);
        Assert.Equal(targeted, counts.Targeted);
        Assert.Equal(counts.Targeted, counts.Settled);
        // Every accepted message is recorded as sent (or later), or — if its answer was lost — as unknown.
        Assert.InRange(accepted.Count, counts.Sent + counts.Delivered + counts.Read, counts.Sent + counts.Delivered + counts.Read + counts.Unknown);
        return counts;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes) await process.DisposeAsync();
        Stub.Dispose();
        if (redis is not null) await redis.DisposeAsync();
        if (cluster is not null) await cluster.DisposeAsync();
        if (sentinels is not null) await sentinels.DisposeAsync();
    }
}
