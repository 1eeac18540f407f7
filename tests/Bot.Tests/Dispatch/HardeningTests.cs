using System.Net;
using System.Text.Json.Nodes;
using Bot.Core.Deliveries;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using WireMock.RequestBuilders;

namespace Bot.Tests.Dispatch;

/// <summary>Paths where the exactly-once promise used to leak: slow sends against short leases, retries that could
/// re-send, errors about the sender recorded against employees, and announcements that never end.</summary>
public sealed class HardeningTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SendsSlowerThanTheLeaseWithTheLockOnSendEveryoneOnceAndNothingBecomesUnknown()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["WhatsApp:Timeout"] = "00:00:10" });
        var employees = await scenario.AddEmployeesAsync(300);
        // Every answer takes 3 s, longer than the 2 s lease: only a lease renewed on a timer stays with its owner.
        scenario.Stub.Server.Given(Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost()).AtPriority(50)
            .RespondWith(WhatsAppStub.AcceptedResponse("+16505550000").WithDelay(TimeSpan.FromSeconds(3)));
        await scenario.StartDispatchersAsync(2, new Dictionary<string, string?>
        {
            ["Dispatcher:UseLock"] = "true",
            ["Dispatcher:LeaseDuration"] = "00:00:02",
            ["Dispatcher:MaxConcurrentSends"] = "100",
        });

        var id = await scenario.CreateAnnouncementAsync(new { message = "Slow but sure" });
        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);

        Assert.Equal(new Scenario.CountsView(300, 300, 0, 0, 0, 0, 0), done.Counts);
        var sends = await scenario.Stub.WhenSentAsync(300);
        Assert.Equal(300, sends.Count);
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
    }

    [Fact]
    public async Task AnAnnouncementPausedPastMaxDispatchAgeExpiresAndNobodyIsSentTwiceAfterTheRecordsExpire()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(10);
        // The token "expires" after the first five: every later send stops the line, again and again.
        foreach (var (_, phone) in employees.Skip(5))
            scenario.Stub.ForRecipient(phone).RespondWith(WhatsAppStub.GraphError(401, 190, "Error validating access token"));
        var shortLived = new Dictionary<string, string?>
        {
            ["Dispatcher:MaxConcurrentSends"] = "1",
            ["Dispatcher:StopTheLinePause"] = "00:00:00.300",
            ["Dispatcher:MaxDispatchAge"] = "00:00:02",
            // Well past the age: the expiring pass must come while the first five's records still exist, and on a busy
            // machine it can come seconds after the age (a 1 s margin let it find them gone and count them again).
            ["Dispatcher:DeliveryRetention"] = "00:00:08",
        };
        await scenario.StartDispatchersAsync(1, shortLived);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Before the token expired" });
        var expired = await scenario.WaitForStatusAsync(id, "expired", Timeout);

        Assert.Equal(new Scenario.CountsView(10, 5, 0, 0, 5, 0, 0), expired.Counts);
        Assert.All(await scenario.GetDeliveriesAsync(id, "failed"), d => Assert.Equal("expired", d.Error));
        // Once the records are gone, a pass over the announcement would find nobody sent: no pass may come.
        var deliveries = new DeliveryStore(scenario.Redis);
        await Eventually.WaitAsync(() => deliveries.GetAsync(id, employees[0].Id), record => record is null, Timeout, "the delivery records to expire");
        var fence = await scenario.CreateAnnouncementAsync(new { message = "Later", employeeIds = new[] { employees[0].Id } });
        await scenario.WaitForStatusAsync(fence, "completed", Timeout);
        Assert.Equal(2, scenario.Stub.CountTo(employees[0].Phone));
        Assert.All(employees.Skip(1).Take(4), e => Assert.Equal(1, scenario.Stub.CountTo(e.Phone)));
        Assert.Equal("expired", (await scenario.GetAnnouncementAsync(id)).Status);
    }

    [Fact]
    public async Task AnAccountWideErrorPausesTheAnnouncementWithItsReasonFailsNobodyAndResumesOnRequest()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(5);
        var locked = Guid.NewGuid();
        scenario.Stub.Server.Given(Request.Create().WithPath(WhatsAppStub.MessagesPath).UsingPost()).WithGuid(locked).AtPriority(50)
            .RespondWith(WhatsAppStub.GraphError(403, 131031, "Business Account locked"));
        await scenario.StartDispatchersAsync(1, new Dictionary<string, string?> { ["Dispatcher:StopTheLinePause"] = "01:00:00" });

        var id = await scenario.CreateAnnouncementAsync(new { message = "Payroll is out" });
        var paused = await scenario.WaitForStatusAsync(id, "paused", Timeout);

        Assert.Equal(new Scenario.CountsView(5, 0, 0, 0, 0, 0, 0), paused.Counts);
        var json = JsonNode.Parse(await scenario.Api.GetStringAsync($"/api/announcements/{id}"))!;
        Assert.StartsWith("131031: ", json["reason"]!.GetValue<string>());
        // The pause (an hour here) runs from the error, seconds after the announcement was created.
        Assert.InRange(json["resumesAt"]!.GetValue<DateTimeOffset>() - json["createdAt"]!.GetValue<DateTimeOffset>(), TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));
        Assert.Empty(await scenario.GetDeliveriesAsync(id, "failed"));

        // The operator fixed the account: resume now rather than in an hour.
        scenario.Stub.Server.DeleteMapping(locked);
        var resumed = await scenario.Api.PostAsync($"/api/announcements/{id}/resume", null);
        Assert.Equal(HttpStatusCode.Accepted, resumed.StatusCode);
        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);

        Assert.Equal(new Scenario.CountsView(5, 5, 0, 0, 0, 0, 0), done.Counts);
        Assert.All(employees, e => Assert.Single(scenario.Stub.Accepted, s => s.To == e.Phone));
        Assert.Null(JsonNode.Parse(await scenario.Api.GetStringAsync($"/api/announcements/{id}"))!["reason"]);
        Assert.Equal(HttpStatusCode.Conflict, (await scenario.Api.PostAsync($"/api/announcements/{id}/resume", null)).StatusCode);
    }

    [Fact]
    public async Task ATemporaryErrorOnAServerErrorIsUnknownAndAThrottledDeliveryHoldsNothingWhileItWaitsToBeRetried()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(2);
        var (brokenId, broken) = employees[0];
        var (throttledId, throttled) = employees[1];
        // 131000 with a 500: the backend may have failed after taking the message, so it must not be sent again.
        scenario.Stub.ForRecipient(broken).RespondWith(WhatsAppStub.GraphError(500, 131000, "Something went wrong"));
        // Throttled, with a long Retry-After.
        var throttling = Guid.NewGuid();
        scenario.Stub.ForRecipient(throttled).WithGuid(throttling).RespondWith(WhatsAppStub.GraphError(429, 130429, "Rate limit hit").WithHeader("Retry-After", "3"));
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Payroll is out" });
        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.CountTo(throttled)), n => n == 1, Timeout, "the throttled first attempt");
        // Refused, so given back: while it waits for its retry it is nobody's, and a pass that stopped now would leave it pending.
        await Eventually.WaitAsync(async () => (await scenario.GetDeliveriesAsync(id)).Single(d => d.EmployeeId == throttledId).State,
            state => state == "pending", Timeout, "the throttled delivery given back");
        scenario.Stub.Server.DeleteMapping(throttling);
        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);

        Assert.Equal(new Scenario.CountsView(2, 1, 0, 0, 0, 1, 0), done.Counts);
        Assert.Equal("unknown", Assert.Single(await scenario.GetDeliveriesAsync(id), d => d.EmployeeId == brokenId).State);
        Assert.Equal(1, scenario.Stub.CountTo(broken));
        Assert.Equal(2, scenario.Stub.CountTo(throttled));
        Assert.Single(scenario.Stub.Accepted, s => s.To == throttled);
    }
}
