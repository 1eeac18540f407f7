using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Bot.Tests.Dispatch;

/// <summary>Each employee gets an announcement once, whatever the dispatchers do. Run on one Redis and on a three-master Redis Cluster.</summary>
public abstract class ExactlyOnceTests(ISharedRedis redis)
{
    public sealed class OnRedis(SharedRedis redis) : ExactlyOnceTests(redis), IClassFixture<SharedRedis>;

    public sealed class OnCluster(SharedRedisCluster redis) : ExactlyOnceTests(redis), IClassFixture<SharedRedisCluster>;

    private const string Text = "Our end of year party is on Saturday evening!";

    [Fact]
    public async Task ThreeDispatchersSendEachEmployeeExactlyOnce()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(1000);
        await scenario.StartDispatchersAsync(3);

        var id = await scenario.CreateAnnouncementAsync(new { message = Text });
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(60));

        var sends = await scenario.Stub.WhenSentAsync(1000);
        Assert.Equal(1000, sends.Count);
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
        Assert.All(sends, s => Assert.Equal(Text, s.Text));
        Assert.Equal(employees.Select(e => $"{id}:{e.Id}").Order(), sends.Select(s => s.CallbackData).Order());
        Assert.Equal(new Scenario.CountsView(1000, 1000, 0, 0, 0, 0, 0), done.Counts);
    }

    [Fact]
    public async Task WithoutTheLockFiveOverlappingDispatchersStillSendEachEmployeeOnce()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(1000);
        // Without the lock all five race for the announcement; a live owner keeps its lease, so the test makes the lease
        // lapse again and again, as if its owner stalled (a GC pause, a frozen VM): another dispatcher takes the
        // announcement over while the first still has sends in flight. Only the per-delivery SET NX stands between
        // them and duplicates.
        var dispatchers = await scenario.StartDispatchersAsync(5, new Dictionary<string, string?>
        {
            ["Dispatcher:UseLock"] = "false",
            ["Dispatcher:BatchSize"] = "300",
            ["WhatsApp:MessagesPerSecond"] = "200",
        });
        using var refusals = new RefusalCounter(dispatchers);

        var id = await scenario.CreateAnnouncementAsync(new { message = Text });
        using var stop = new CancellationTokenSource();
        var stalls = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await scenario.Redis.SortedSetAddAsync(RedisKeys.InFlight("default"), id, 0, SortedSetWhen.Exists);
                    await Task.Delay(TimeSpan.FromMilliseconds(300), stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(90));
        await stop.CancelAsync();
        await stalls;

        var sends = await scenario.Stub.WhenSentAsync(1000);
        Assert.Equal(1000, sends.Count);
        Assert.Equal(1000, sends.Select(s => s.To).Distinct().Count());
        Assert.Equal(1000, done.Counts.Sent);
        Assert.True(refusals.Count > 0, "no dispatcher ever overlapped another, so the test proved nothing");
    }

    [Fact]
    public async Task FiveFanOutsOfTheSameAnnouncementAtOnceSendEachEmployeeOnce()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(500);
        var hosts = Enumerable.Range(0, 5).Select(_ => scenario.BuildDispatcher(new Dictionary<string, string?> { ["Dispatcher:UseLock"] = "false" })).ToArray();
        var id = await scenario.CreateAnnouncementAsync(new { message = Text, sendAt = DateTimeOffset.UtcNow.AddHours(1) });

        // The worst case the claim protocol is there to prevent, forced: five dispatchers run the same announcement.
        await Task.WhenAll(hosts.Select((h, i) => Task.Run(() => h.FanOut().RunAsync(h.Queue(), id, $"racer{i}", () => true, CancellationToken.None))));

        var sends = await scenario.Stub.WhenSentAsync(500);
        Assert.Equal(500, sends.Count);
        Assert.Equal(500, sends.Select(s => s.To).Distinct().Count());
        var view = await scenario.GetAnnouncementAsync(id);
        Assert.Equal("completed", view.Status);
        Assert.Equal(500, view.Counts.Sent);
    }

    [Fact]
    public async Task DispatcherStoppedMidFanOutIsResumedByAnotherWithEveryoneExactlyOnce()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1000);
        var slow = new Dictionary<string, string?> { ["WhatsApp:MessagesPerSecond"] = "250", ["Dispatcher:BatchSize"] = "50" };
        var first = (await scenario.StartDispatchersAsync(1, slow))[0];

        var id = await scenario.CreateAnnouncementAsync(new { message = Text });
        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends.Count), n => n >= 200, TimeSpan.FromSeconds(30), "200 sends");
        await first.StopAsync();
        var sentByFirst = scenario.Stub.Sends.Count;
        Assert.InRange(sentByFirst, 200, 999);

        await scenario.StartDispatchersAsync(1, slow);
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(30));

        var sends = await scenario.Stub.WhenSentAsync(1000);
        Assert.Equal(1000, sends.Count);
        Assert.Equal(1000, sends.Select(s => s.To).Distinct().Count());
        Assert.Equal(new Scenario.CountsView(1000, 1000, 0, 0, 0, 0, 0), done.Counts);
    }

    [Fact]
    public async Task PhoneChangeAfterDeliveryCausesNoResendAndTheNextAnnouncementGoesToTheNewNumber()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(3);
        await scenario.StartDispatchersAsync(1);
        var first = await scenario.CreateAnnouncementAsync(new { message = "first" });
        await scenario.WaitForStatusAsync(first, "completed", TimeSpan.FromSeconds(10));

        var put = await scenario.Api.PutAsJsonAsync("/api/employees/e00001", new { phone = "+16505559999" });
        Assert.Equal(System.Net.HttpStatusCode.OK, put.StatusCode);
        // What the old cron job did: run the same announcement again.
        await scenario.Redis.HashSetAsync(RedisKeys.Announcement(first), "status", "dispatching");
        await scenario.Redis.SortedSetAddAsync(RedisKeys.Due("default"), first, 0);
        await Eventually.WaitAsync(async () => await scenario.Redis.SortedSetLengthAsync(RedisKeys.Due("default")) == 0
            && await scenario.Redis.SortedSetLengthAsync(RedisKeys.InFlight("default")) == 0, TimeSpan.FromSeconds(10), "re-run finished");

        Assert.Equal(0, scenario.Stub.CountTo("+16505559999"));
        Assert.Equal(1, scenario.Stub.CountTo("+16505550001"));

        var second = await scenario.CreateAnnouncementAsync(new { message = "second" });
        await scenario.WaitForStatusAsync(second, "completed", TimeSpan.FromSeconds(10));
        Assert.Equal(1, scenario.Stub.CountTo("+16505559999"));
        Assert.Equal(1, scenario.Stub.CountTo("+16505550001"));
        var sends = await scenario.Stub.WhenSentAsync(6);
        Assert.Equal(6, sends.Count);
    }

    /// <summary>Counts SET NX refusals reported by these dispatchers.</summary>
    private sealed class RefusalCounter : IDisposable
    {
        private readonly MeterListener listener = new();
        private long count;

        public RefusalCounter(IEnumerable<IHost> dispatchers)
        {
            // A MeterListener hears every meter of the process, including dispatchers of tests running beside this
            // one; a host's meters are scoped to its own IMeterFactory.
            var factories = dispatchers.Select(d => (object)d.Services.GetRequiredService<IMeterFactory>()).ToHashSet();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == DispatcherMetrics.MeterName && instrument.Name == "announcements.duplicates_prevented" &&
                    instrument.Meter.Scope is { } scope && factories.Contains(scope))
                    l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref count, value));
            listener.Start();
        }

        public long Count => Interlocked.Read(ref count);

        public void Dispose() => listener.Dispose();
    }
}
