using System.Net;
using System.Net.Http.Json;
using Bot.Core.Employees;
using Bot.Tests.Harness;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Dispatch;

/// <summary>Announcements go when due, not before; cancel and wake-ups. Run on one Redis and on a three-master Redis Cluster.</summary>
public abstract class SchedulingTests(ISharedRedis redis)
{
    public sealed class OnRedis(SharedRedis redis) : SchedulingTests(redis), IClassFixture<SharedRedis>;

    public sealed class OnCluster(SharedRedisCluster redis) : SchedulingTests(redis), IClassFixture<SharedRedisCluster>;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AScheduledAnnouncementSendsNothingBeforeItIsDueAndEveryoneOnceWhenItIs()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var scenario = new Scenario(redis, time: clock);
        var employees = await scenario.AddEmployeesAsync(50);
        await scenario.StartDispatchersAsync(2);
        var dueAt = clock.GetUtcNow().AddMinutes(10);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Shift starts at 9", sendAt = dueAt.ToString("O") });

        clock.Advance(dueAt - clock.GetUtcNow() - TimeSpan.FromMilliseconds(1));
        await AfterTheDispatchersLookedAgainAsync(scenario);

        Assert.Equal("scheduled", (await scenario.GetAnnouncementAsync(id)).Status);
        Assert.DoesNotContain(scenario.Stub.Sends, s => s.Text == "Shift starts at 9");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);

        Assert.Equal(50, done.Counts.Sent);
        var sends = (await scenario.Stub.WhenSentAsync(51)).Where(s => s.Text == "Shift starts at 9").ToList();
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
    }

    [Fact]
    public async Task SendNowWakesAWaitingDispatcherWithoutWaitingForItsPoll()
    {
        // A poll a minute: only the pub/sub wake-up makes the send go out within the deadline (how fast: bench/Bot.Bench).
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Dispatcher:PollInterval"] = "00:01:00" });
        await scenario.AddEmployeesAsync(1);
        await scenario.StartDispatchersAsync(1);

        await scenario.CreateAnnouncementAsync(new { message = "now" });

        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends.Count), n => n == 1, TimeSpan.FromSeconds(30), "sent before the next poll");
    }

    [Fact]
    public async Task CancelBeforeDueSendsNothing()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var scenario = new Scenario(redis, time: clock);
        await scenario.AddEmployeesAsync(20);
        await scenario.StartDispatchersAsync(1);
        var dueAt = clock.GetUtcNow().AddMinutes(5);
        var id = await scenario.CreateAnnouncementAsync(new { message = "cancel me", sendAt = dueAt.ToString("O") });

        var cancel = await scenario.Api.DeleteAsync($"/api/announcements/{id}");
        Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);

        clock.Advance(TimeSpan.FromMinutes(6));
        await AfterTheDispatchersLookedAgainAsync(scenario);
        Assert.DoesNotContain(scenario.Stub.Sends, s => s.Text == "cancel me");
        var view = await scenario.GetAnnouncementAsync(id);
        Assert.Equal("cancelled", view.Status);
        Assert.Equal(0, view.Counts.Sent);
    }

    /// <summary>
    /// A send-now announcement to one employee, completed: the dispatchers have looked at the schedule since the test
    /// last moved the clock, so what they left alone they left alone at that time, not because they had not looked yet.
    /// </summary>
    private static async Task AfterTheDispatchersLookedAgainAsync(Scenario scenario)
    {
        var fence = await scenario.CreateAnnouncementAsync(new { message = "fence", employeeIds = new[] { "e00001" } });
        await scenario.WaitForStatusAsync(fence, "completed", Timeout);
    }

    [Fact]
    public async Task CancelAfterDispatchStartedIsAConflict()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(200);
        await scenario.StartDispatchersAsync(1, new Dictionary<string, string?> { ["WhatsApp:MessagesPerSecond"] = "100" });
        var id = await scenario.CreateAnnouncementAsync(new { message = "too late" });
        await scenario.WaitForStatusAsync(id, "dispatching", TimeSpan.FromSeconds(5));

        var cancel = await scenario.Api.DeleteAsync($"/api/announcements/{id}");

        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal("application/problem+json", cancel.Content.Headers.ContentType?.MediaType);
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(20));
        Assert.Equal(200, done.Counts.Sent);
        var sends = await scenario.Stub.WhenSentAsync(200);
        Assert.Equal(200, sends.Count);
    }

    [Fact]
    public async Task EmployeesOptedOutOrRemovedBeforeTheSendAreSkippedAndCounted()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(5);
        await scenario.StartDispatchersAsync(1);
        var dueAt = DateTimeOffset.UtcNow.AddSeconds(1.5).ToString("O");
        var toAll = await scenario.CreateAnnouncementAsync(new { message = "to all", sendAt = dueAt });
        var toList = await scenario.CreateAnnouncementAsync(new { message = "to a list", sendAt = dueAt, employeeIds = new[] { "e00001", "e00002" } });

        Assert.Equal(HttpStatusCode.NoContent, (await scenario.Api.DeleteAsync("/api/employees/e00002")).StatusCode);
        var employees = scenario.AppServices.GetRequiredService<EmployeeStore>();
        Assert.True(await employees.SetStatusAsync(scenario.EmployerId, "e00003", EmployeeStatus.OptedOut));

        var all = await scenario.WaitForStatusAsync(toAll, "completed", TimeSpan.FromSeconds(10));
        var list = await scenario.WaitForStatusAsync(toList, "completed", TimeSpan.FromSeconds(10));

        // "All" is fixed when sending starts: the removed employee is no longer part of it, the opted-out one is.
        Assert.Equal(new Scenario.CountsView(4, 3, 0, 0, 0, 0, 1), all.Counts);
        Assert.Equal(new Scenario.CountsView(2, 1, 0, 0, 0, 0, 1), list.Counts);
        Assert.Equal(0, scenario.Stub.CountTo("+16505550002"));
        Assert.Equal(0, scenario.Stub.CountTo("+16505550003"));
        var sends = await scenario.Stub.WhenSentAsync(4);
        Assert.Equal(4, sends.Count);
    }
}
