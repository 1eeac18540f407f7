using System.Net;
using System.Net.Http.Json;
using Bot.Core.Employees;
using Bot.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Dispatch;

public sealed class SchedulingTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task ScheduledAnnouncementSendsNothingBeforeItIsDueAndEverythingWithinASecondAfter()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(50);
        await scenario.StartDispatchersAsync(2);
        var dueAt = DateTimeOffset.UtcNow.AddSeconds(2);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Shift starts at 9", sendAt = dueAt.ToString("O") });

        await Task.Delay(dueAt - DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(150));
        Assert.Empty(scenario.Stub.Sends);
        Assert.Equal("scheduled", (await scenario.GetAnnouncementAsync(id)).Status);

        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends.Count), n => n == 50,
            dueAt + TimeSpan.FromSeconds(1) - DateTimeOffset.UtcNow, "all 50 sent within 1 s after due");
        var log = scenario.Stub.Server.LogEntries.Select(e => e.RequestMessage.DateTime).ToList();
        Assert.True(log.Min() >= dueAt.UtcDateTime, $"first send at {log.Min():O}, before due {dueAt:O}");
        Assert.True(log.Max() <= dueAt.UtcDateTime.AddSeconds(1), $"last send at {log.Max():O}, more than 1 s after due {dueAt:O}");
    }

    [Fact]
    public async Task SendNowIsPickedUpWithinASecond()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Dispatcher:PollInterval"] = "00:00:30" });
        await scenario.AddEmployeesAsync(1);
        await scenario.StartDispatchersAsync(1);
        await Task.Delay(300); // let the dispatcher settle into its (30 s) wait; only the pub/sub wake-up can be fast now

        var posted = DateTime.UtcNow;
        await scenario.CreateAnnouncementAsync(new { message = "now" });

        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends.Count), n => n == 1, TimeSpan.FromSeconds(5), "sent");
        var sentAt = scenario.Stub.Server.LogEntries.Single().RequestMessage.DateTime;
        Assert.True(sentAt - posted < TimeSpan.FromSeconds(1), $"picked up after {(sentAt - posted).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task CancelBeforeDueSendsNothing()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(20);
        await scenario.StartDispatchersAsync(1);
        var dueAt = DateTimeOffset.UtcNow.AddSeconds(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "cancel me", sendAt = dueAt.ToString("O") });

        var cancel = await scenario.Api.DeleteAsync($"/api/announcements/{id}");
        Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);

        await Task.Delay(dueAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1)); // past due, plus a full second of chances to misbehave
        Assert.Empty(scenario.Stub.Sends);
        var view = await scenario.GetAnnouncementAsync(id);
        Assert.Equal("cancelled", view.Status);
        Assert.Equal(0, view.Counts.Sent);
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
