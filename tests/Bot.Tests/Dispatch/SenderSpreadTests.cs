using System.Net.Http.Json;
using System.Text;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Microsoft.Extensions.Hosting;

namespace Bot.Tests.Dispatch;

/// <summary>
/// Scale-out: each sender's queue is dispatched by the replica holding the sender's lock, and the replicas share the
/// senders, ⌈senders / replicas⌉ each at most. Run on one Redis and on a three-master Redis Cluster.
/// </summary>
public abstract class SenderSpreadTests(ISharedRedis redis)
{
    public sealed class OnRedis(SharedRedis redis) : SenderSpreadTests(redis), IClassFixture<SharedRedis>;

    public sealed class OnCluster(SharedRedisCluster redis) : SenderSpreadTests(redis), IClassFixture<SharedRedisCluster>;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LockExpiry = TimeSpan.FromSeconds(3);

    /// <summary>Four employers, each on its own sender (its own WhatsApp number).</summary>
    private static readonly (string Employer, string ApiKey, string Sender, string PhoneNumberId)[] Employers =
    [
        ("acme", Scenario.ApiKey, "s1", "100000000000001"),
        ("other", Scenario.OtherApiKey, "s2", "100000000000002"),
        ("third", "third-api-key-0123456789", "s3", "100000000000003"),
        ("fourth", "fourth-api-key-0123456789", "s4", "100000000000004"),
    ];

    private static Dictionary<string, string?> FourSenders(int messagesPerSecond)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dispatcher:LockExpiry"] = LockExpiry.ToString(),
            // No default sender (WhatsApp:*): exactly these four.
            ["WhatsApp:PhoneNumberId"] = "",
        };
        foreach (var (employer, apiKey, sender, number) in Employers)
        {
            settings[$"Senders:{sender}:PhoneNumberId"] = number;
            settings[$"Senders:{sender}:AccessToken"] = $"token-{sender}";
            settings[$"Senders:{sender}:MessagesPerSecond"] = messagesPerSecond.ToString();
            settings[$"Employers:{employer}:ApiKey"] = apiKey;
            settings[$"Employers:{employer}:Sender"] = sender;
        }
        return settings;
    }

    [Fact]
    public async Task WithFourSendersAndTwoReplicasEachReplicaSendsForTwoSendersAtOnce()
    {
        await using var scenario = new Scenario(redis, FourSenders(messagesPerSecond: 1000));
        await AddEmployeesAsync(scenario, 100);
        // Each replica talks to its own WhatsApp stand-in, so every request shows which replica sent it.
        using var stubA = new WhatsAppStub();
        using var stubB = new WhatsAppStub();
        var a = scenario.BuildDispatcher(new Dictionary<string, string?> { ["WhatsApp:BaseUrl"] = stubA.Url });
        var b = scenario.BuildDispatcher(new Dictionary<string, string?> { ["WhatsApp:BaseUrl"] = stubB.Url });
        await Task.WhenAll(a.StartAsync(), b.StartAsync());

        await Eventually.WaitAsync(() => Task.FromResult(Spread(a, b)), s => s == "2 + 2", Timeout, "two senders on each replica");
        var (heldByA, heldByB) = (a.HeldSenders(), b.HeldSenders());
        Assert.Equal(["s1", "s2", "s3", "s4"], heldByA.Concat(heldByB).Order());
        // The locks in Redis say the same: four keys, held by two different lock ids.
        var lockIds = await Task.WhenAll(Employers.Select(e => LockIdAsync(scenario, e.Sender)));
        Assert.All(lockIds, Assert.NotNull);
        Assert.Equal(4, lockIds.Distinct().Count());

        var ids = await Task.WhenAll(Employers.Select(e => AnnounceAsync(scenario, e.ApiKey, $"For {e.Employer}")));
        foreach (var id in ids) await Eventually.WaitAsync(() => GetAsync(scenario, id), s => s == "completed", Timeout, $"announcement {id} completed");

        Assert.Equal(NumbersOf(heldByA), NumbersSentFrom(stubA));
        Assert.Equal(NumbersOf(heldByB), NumbersSentFrom(stubB));
        var all = stubA.Accepted.Concat(stubB.Accepted).ToList();
        Assert.Equal(400, all.Count);
        Assert.Equal(400, all.Select(s => s.CallbackData).Distinct().Count());
        Assert.Equal(100, all.Count(s => s.Text == "For fourth"));
    }

    [Fact]
    public async Task ASecondReplicaTakesHalfTheSendersAndWhenItStopsTheFirstTakesThemAllBack()
    {
        // 40 sends per second per number: the fan-outs are still running while the senders move.
        await using var scenario = new Scenario(redis, FourSenders(messagesPerSecond: 40));
        await AddEmployeesAsync(scenario, 80);
        var first = (await scenario.StartDispatchersAsync(1))[0];
        await Eventually.WaitAsync(() => Task.FromResult(Spread(first)), s => s == "4", Timeout, "all four senders on the only replica");
        var ids = await Task.WhenAll(Employers.Select(e => AnnounceAsync(scenario, e.ApiKey, $"For {e.Employer}")));
        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends.Count), n => n >= 20, Timeout, "the fan-outs under way");

        var second = (await scenario.StartDispatchersAsync(1))[0];
        await Eventually.WaitAsync(() => Task.FromResult(Spread(first, second)), s => s == "2 + 2", Timeout, "two senders on each replica after the second joined");

        await second.StopAsync();
        // A replica that stops releases its locks and leaves at once; one that dies is covered by the lock expiry
        // (the fault tests kill one), so either way the first has them all back within it.
        await Eventually.WaitAsync(() => Task.FromResult(Spread(first)), s => s == "4", LockExpiry + TimeSpan.FromSeconds(2), "all four senders back on the first replica");

        foreach (var id in ids) await Eventually.WaitAsync(() => GetAsync(scenario, id), s => s == "completed", Timeout, $"announcement {id} completed");
        var sends = scenario.Stub.Accepted;
        Assert.Equal(320, sends.Count);
        Assert.Equal(320, sends.Select(s => s.CallbackData).Distinct().Count());
    }

    /// <summary>How many senders each replica dispatches, e.g. "2 + 2".</summary>
    private static string Spread(params IHost[] replicas) => string.Join(" + ", replicas.Select(r => r.HeldSenders().Count));

    private static async Task AddEmployeesAsync(Scenario scenario, int count)
    {
        var csv = new StringBuilder("employeeId,phone\n");
        for (var i = 1; i <= count; i++) csv.Append($"e{i:D5},+1650555{i:D4}\n");
        foreach (var employer in Employers)
        {
            using var api = scenario.ClientFor(employer.ApiKey);
            (await api.PostAsync("/api/employees/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"))).EnsureSuccessStatusCode();
        }
    }

    private static async Task<string> AnnounceAsync(Scenario scenario, string apiKey, string message)
    {
        using var api = scenario.ClientFor(apiKey);
        var response = await api.PostAsJsonAsync("/api/announcements", new { message });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;
    }

    private static async Task<string> GetAsync(Scenario scenario, string id)
    {
        // Any employer's key finds only its own announcements: ask with each.
        foreach (var employer in Employers)
        {
            using var api = scenario.ClientFor(employer.ApiKey);
            var response = await api.GetAsync($"/api/announcements/{id}");
            if (response.IsSuccessStatusCode) return (await response.Content.ReadFromJsonAsync<Scenario.AnnouncementView>())!.Status;
        }
        throw new InvalidOperationException($"announcement {id} not found");
    }

    private static async Task<string?> LockIdAsync(Scenario scenario, string sender) =>
        await scenario.Redis.Multiplexer.GetDatabase().StringGetAsync($"redlock:{scenario.KeyPrefix}{RedisKeys.DispatchLock(sender)}");

    private static IEnumerable<string> NumbersOf(IEnumerable<string> senders) =>
        senders.Select(s => Employers.Single(e => e.Sender == s).PhoneNumberId).Order();

    /// <summary>The numbers a stand-in got sends from: the phone number id in each request path (<c>/v…/{id}/messages</c>).</summary>
    private static IEnumerable<string> NumbersSentFrom(WhatsAppStub stub) =>
        stub.Server.LogEntries
            .Where(e => e.RequestMessage.Method == "POST" && e.RequestMessage.Path.EndsWith("/messages", StringComparison.Ordinal))
            .Select(e => e.RequestMessage.Path.Split('/')[2]).Distinct().Order();
}
