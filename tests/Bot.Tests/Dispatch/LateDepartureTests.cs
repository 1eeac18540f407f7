using System.Diagnostics;
using Bot.Core.Deliveries;
using Bot.Dispatch;
using Bot.Tests.Harness;
using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Bot.Tests.Dispatch;

public sealed class LateDepartureTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task ARequestLateForItsSlotIsGivenBackAndSentOnItsNextPermitEvenIfLateAgain()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(30);
        var limiter = new AlwaysLate();
        await scenario.StartDispatchersAsync(1, services: s => s.AddSingleton<ISendRateLimiter>(limiter));

        var id = await scenario.CreateAnnouncementAsync(new { message = "Canteen closed on Friday" });
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(30));

        // Each was late for its first permit (its claim given back), and went on its second, late too: 60 asked, 30 sent.
        Assert.Equal(60, limiter.Asked);
        var sends = await scenario.Stub.WhenSentAsync(30);
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
        Assert.Equal(new Scenario.CountsView(30, 30, 0, 0, 0, 0, 0), done.Counts);
    }

    [Fact]
    public async Task ASendGivenBackForItsSlotKeepsItsPlaceInTheMessagingLimitAndGoes()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Portfolios:default:MessagingLimit"] = "250" }, clock);
        await scenario.AddEmployeesAsync(400);
        await scenario.StartDispatchersAsync(1, services: s => s.AddSingleton<ISendRateLimiter>(new AlwaysLate()));

        var id = await scenario.CreateAnnouncementAsync(new { template = new { name = "shift_notice", language = "en_US", parameters = new[] { "Friday" } } });

        // Every send took its place, gave its claim back and took it again; those doing so when the limit filled go too.
        var waiting = await Eventually.WaitAsync(() => scenario.GetAnnouncementAsync(id), a => a.Status == "waiting_for_limit", TimeSpan.FromSeconds(30), "waiting for the limit");
        Assert.Equal(250, waiting.Counts.Sent);
        Assert.Equal(250, scenario.Stub.Sends.Count);
    }

    [Fact]
    public async Task ALateSendWhoseClaimAnotherPassSettledUnknownMeanwhileStillLeavesOnce()
    {
        // This process stalled past its lease while each send was late: another pass settled every claim unknown, which
        // promises the employer a request may have left. So each leaves, late, and none twice.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var scenario = new Scenario(redis, time: clock);
        var employees = await scenario.AddEmployeesAsync(20);
        var limiter = new LateAndSettledElsewhere(new DeliveryStore(scenario.Redis), [.. employees.Select(e => e.Id)]);
        await scenario.StartDispatchersAsync(1, services: s => s.AddSingleton<ISendRateLimiter>(limiter));
        var dueAt = clock.GetUtcNow().AddMinutes(1);
        limiter.AnnouncementId = await scenario.CreateAnnouncementAsync(new { message = "Canteen closed on Friday", sendAt = dueAt.ToString("O") });

        clock.Advance(TimeSpan.FromMinutes(1));
        var done = await scenario.WaitForStatusAsync(limiter.AnnouncementId, "completed", TimeSpan.FromSeconds(30));

        Assert.Equal(20, limiter.Settled);
        var sends = await scenario.Stub.WhenSentAsync(20);
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
        // Their answers prove them sent.
        Assert.Equal(new Scenario.CountsView(20, 20, 0, 0, 0, 0, 0), done.Counts);
    }

    /// <summary>Grants every permit at once and finds every request late for its slot.</summary>
    private sealed class AlwaysLate : ISendRateLimiter
    {
        private int asked;

        public int Asked => Volatile.Read(ref asked);

        public Task<SendPermit> AcquireAsync(Sender sender, SendLane lane, CancellationToken cancellationToken) =>
            Task.FromResult(new SendPermit(Stopwatch.GetTimestamp()));

        public bool LeavesOnTime(Sender sender, SendPermit permit)
        {
            Interlocked.Increment(ref asked);
            return false;
        }
    }

    /// <summary>Finds every request late, and settles every claim it finds unknown first, as a pass that found them abandoned would.</summary>
    private sealed class LateAndSettledElsewhere(DeliveryStore deliveries, string[] employeeIds) : ISendRateLimiter
    {
        private int settled;

        public string? AnnouncementId { get; set; }

        public int Settled => Volatile.Read(ref settled);

        public Task<SendPermit> AcquireAsync(Sender sender, SendLane lane, CancellationToken cancellationToken) =>
            Task.FromResult(new SendPermit(Stopwatch.GetTimestamp()));

        public bool LeavesOnTime(Sender sender, SendPermit permit)
        {
            foreach (var employeeId in employeeIds)
            {
                if (deliveries.GetAsync(AnnouncementId!, employeeId).GetAwaiter().GetResult() is not { State: DeliveryState.Claimed } claim) continue;
                var unknown = new DeliveryRecord(DeliveryState.Unknown, DateTimeOffset.UtcNow, Error: "abandoned");
                if (deliveries.TransitionAsync(AnnouncementId!, employeeId, unknown, claim).GetAwaiter().GetResult()) Interlocked.Increment(ref settled);
            }
            return false;
        }
    }
}
