using Bot.Core.Deliveries;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Microsoft.Extensions.Hosting;

namespace Bot.Tests.Deliveries;

/// <summary>
/// An announcement's records move out of their gate keys into a few listpack buckets as they settle, and the rest when
/// it completes: nothing can be sent twice after it, and statuses, re-send claims, the API and the export work on the
/// folded form. Run on one
/// Redis and on a three-master Redis Cluster.
/// </summary>
public abstract class FoldTests(ISharedRedis redis)
{
    public sealed class OnRedis(SharedRedis redis) : FoldTests(redis), IClassFixture<SharedRedis>;

    public sealed class OnCluster(SharedRedisCluster redis) : FoldTests(redis), IClassFixture<SharedRedisCluster>;

    private const int Employees = 300;

    [Fact]
    public async Task AFoldedAnnouncementSendsNobodyASecondMessageWhateverRunsItAgain()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(Employees);
        var (host, id) = await CompleteAsync(scenario);
        var deliveries = new DeliveryStore(scenario.Redis);

        // Folded: no gate key left, every record in a bucket, all of them still read as sent.
        foreach (var (employeeId, _) in employees) Assert.False(await scenario.Redis.KeyExistsAsync(RedisKeys.Delivery(id, employeeId)));
        var buckets = (int)await scenario.Redis.HashGetAsync(RedisKeys.Announcement(id), "foldBuckets");
        var folded = await Task.WhenAll(Enumerable.Range(0, buckets).Select(b => scenario.Redis.HashLengthAsync(RedisKeys.FoldedDeliveries(id, b))));
        Assert.Equal(Employees, folded.Sum());
        // Where the C# side groups them (DeliveryStore.Bucket) is where the scripts look (record_bucket).
        foreach (var (employeeId, _) in employees)
            Assert.True(await scenario.Redis.HashExistsAsync(RedisKeys.FoldedDeliveries(id, DeliveryStore.Bucket(employeeId, buckets)), employeeId));
        // Sent, or unknown where the stub answered after the client's timeout (a busy machine): settled either way.
        var records = await scenario.GetDeliveriesAsync(id);
        Assert.Equal(Employees, records.Count(d => d is { State: "sent", MessageId: not null, Form: "text" } or { State: "unknown" }));
        var counts = (await scenario.GetAnnouncementAsync(id)).Counts;
        Assert.Equal(Employees, counts.Settled);

        // Run it again as it is (completed), then as if its status had gone back to dispatching: the folded records
        // refuse every claim as the gate keys did.
        await host.FanOut().RunAsync(host.Queue(), id, "again", () => true, CancellationToken.None);
        await scenario.Redis.HashSetAsync(RedisKeys.Announcement(id), "status", "dispatching");
        await host.FanOut().RunAsync(host.Queue(), id, "rewound", () => true, CancellationToken.None);
        var claim = DeliveryRecord.Claimed("direct#1", DateTimeOffset.UtcNow, DeliveryForm.Text);
        Assert.NotNull(await deliveries.TryClaimAsync(id, employees[0].Id, claim, TimeSpan.FromDays(1)));

        Assert.Equal(Employees, scenario.Stub.Sends.Count);
        Assert.Equal(Employees, scenario.Stub.Sends.Select(s => s.To).Distinct().Count());
        Assert.Equal(counts, (await scenario.GetAnnouncementAsync(id)).Counts);
        foreach (var (employeeId, _) in employees) Assert.False(await scenario.Redis.KeyExistsAsync(RedisKeys.Delivery(id, employeeId)));
    }

    [Fact]
    public async Task RecordsMoveIntoTheBucketsAsTheySettleAndTheNextPassSendsNobodyTwice()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(Employees);
        var host = scenario.BuildDispatcher(new Dictionary<string, string?> { ["Dispatcher:BatchSize"] = "20" });
        var id = await scenario.CreateAnnouncementAsync(new { message = "Canteen closed on Friday", sendAt = DateTimeOffset.UtcNow.AddHours(1) });

        // A pass that loses its lock once 100 have gone: it stops at its next batch and hands the announcement back.
        await host.FanOut().RunAsync(host.Queue(), id, "first", () => scenario.Stub.Sends.Count < 100, CancellationToken.None);
        var halfway = await scenario.GetAnnouncementAsync(id);
        Assert.NotEqual("completed", halfway.Status);
        Assert.InRange(halfway.Counts.Settled, 100, Employees - 1);

        // Mid-dispatch, every settled record is in its bucket already; a gate key is left only where a claim is.
        var buckets = (int)await scenario.Redis.HashGetAsync(RedisKeys.Announcement(id), "foldBuckets");
        var folded = await Task.WhenAll(Enumerable.Range(0, buckets).Select(b => scenario.Redis.HashLengthAsync(RedisKeys.FoldedDeliveries(id, b))));
        Assert.Equal(halfway.Counts.Settled, folded.Sum());
        var gates = await Task.WhenAll(employees.Select(e => scenario.Redis.StringGetAsync(RedisKeys.Delivery(id, e.Id))));
        Assert.All(gates.Where(g => g.HasValue), g => Assert.StartsWith("c|", (string)g!));

        // The next pass meets those records in the buckets, not in gate keys: it sends to the rest only.
        await host.FanOut().RunAsync(host.Queue(), id, "second", () => true, CancellationToken.None);

        Assert.Equal("completed", (await scenario.GetAnnouncementAsync(id)).Status);
        Assert.Equal(Employees, scenario.Stub.Sends.Count);
        Assert.Equal(Employees, scenario.Stub.Sends.Select(s => s.To).Distinct().Count());
        foreach (var (employeeId, _) in employees) Assert.False(await scenario.Redis.KeyExistsAsync(RedisKeys.Delivery(id, employeeId)));
    }

    [Fact]
    public async Task StatusesAndReSendClaimsMoveFoldedDeliveriesForward()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(Employees);
        var (_, id) = await CompleteAsync(scenario);
        var sent = (await scenario.GetDeliveriesAsync(id, "sent")).ToDictionary(d => d.EmployeeId, d => d.MessageId!);
        var before = (await scenario.GetAnnouncementAsync(id)).Counts;
        var (reader, readerPhone) = employees.First(e => sent.ContainsKey(e.Id));
        var (unreachable, unreachablePhone) = employees.Last(e => sent.ContainsKey(e.Id));

        // Days later, in any order, and one about another message of the reader's delivery (which must change nothing).
        await scenario.DeliverAsync(Meta.Statuses(
            Meta.Status(sent[reader], "read", readerPhone, $"{id}:{reader}"),
            Meta.Status(sent[reader], "delivered", readerPhone, $"{id}:{reader}"),
            Meta.Status(Meta.NewMessageId(), "failed", readerPhone, $"{id}:{reader}", errorCode: 131026),
            Meta.Status(sent[unreachable], "failed", unreachablePhone, $"{id}:{unreachable}", errorCode: 131026)));

        var states = (await scenario.GetDeliveriesAsync(id)).ToDictionary(d => d.EmployeeId);
        Assert.Equal(("read", sent[reader]), (states[reader].State, states[reader].MessageId));
        Assert.Equal(("failed", "131026"), (states[unreachable].State, states[unreachable].Error));
        Assert.Equal(before with { Sent = before.Sent - 2, Read = 1, Failed = 1 }, (await scenario.GetAnnouncementAsync(id)).Counts);
        var csv = await scenario.Api.GetStringAsync($"/api/announcements/{id}/deliveries.csv");
        Assert.Contains($"{reader},", csv, StringComparison.Ordinal);
        Assert.Equal(before.Sent - 2, csv.Split('\n').Count(line => line.Contains(",sent,", StringComparison.Ordinal)));

        // The template re-send's compare-and-set (swap-delivery.lua) on a folded record: once, then back when not sent.
        var deliveries = new DeliveryStore(scenario.Redis);
        var failed = (await deliveries.GetAsync(id, unreachable))!;
        var claim = DeliveryRecord.Claimed("resend#1", DateTimeOffset.UtcNow, DeliveryForm.Template) with { Error = failed.Reference };
        Assert.True(await deliveries.SwapAsync(id, unreachable, failed, claim));
        Assert.False(await deliveries.SwapAsync(id, unreachable, failed, claim));
        Assert.True(await deliveries.IsHeldAsync(id, unreachable, claim));
        Assert.True(await deliveries.TransitionAsync(id, unreachable, new DeliveryRecord(DeliveryState.Sent, DateTimeOffset.UtcNow, "wamid.resent")));
        Assert.Equal(("sent", "wamid.resent", "template"), await StateAsync(scenario, id, unreachable));
        Assert.False(await scenario.Redis.KeyExistsAsync(RedisKeys.Delivery(id, unreachable)));
    }

    private static async Task<(string, string?, string?)> StateAsync(Scenario scenario, string id, string employeeId)
    {
        var view = (await scenario.GetDeliveriesAsync(id)).Single(d => d.EmployeeId == employeeId);
        return (view.State, view.MessageId, view.Form);
    }

    /// <summary>One pass of a dispatcher (not started: nothing else runs it) over a new announcement to everyone, to completed.</summary>
    private static async Task<(IHost Host, string Id)> CompleteAsync(Scenario scenario)
    {
        var host = scenario.BuildDispatcher();
        var id = await scenario.CreateAnnouncementAsync(new { message = "Lifts out of order on Monday", sendAt = DateTimeOffset.UtcNow.AddHours(1) });
        await host.FanOut().RunAsync(host.Queue(), id, "first", () => true, CancellationToken.None);
        Assert.Equal("completed", (await scenario.GetAnnouncementAsync(id)).Status);
        Assert.Equal(Employees, (await scenario.Stub.WhenSentAsync(Employees)).Count);
        return (host, id);
    }
}
