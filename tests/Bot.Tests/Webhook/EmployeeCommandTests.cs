using System.Net;
using System.Net.Http.Json;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Webhook.Webhook;

namespace Bot.Tests.Webhook;

public sealed class EmployeeCommandTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TheSameInboundMessageThreeTimesIsOneReplyAndOneStateChange()
    {
        await using var scenario = new Scenario(redis);
        var employee = (await scenario.AddEmployeesAsync(1))[0];
        var stop = Meta.InboundText(employee.Phone, "STOP");
        const string stranger = "+16505559876";

        await scenario.DeliverAsync(stop);
        var afterFirst = await scenario.GetEmployeeAsync(employee.Id);
        await scenario.DeliverAsync(stop);
        await scenario.DeliverAsync(stop);
        // A stranger writing again and again gets one polite answer, not one per message.
        foreach (var text in new[] { "hello?", "HELP", "STOP" }) await scenario.DeliverAsync(Meta.InboundText(stranger, text));
        // A later message's reply marks the point by which any duplicate reply would have been sent.
        await scenario.DeliverAsync(Meta.InboundText(employee.Phone, "help"));
        var replies = await scenario.WaitForSendsToAsync(employee.Phone, 2);

        Assert.Equal([BotConversation.StoppedText, BotConversation.HelpText], replies.Select(r => r.Text));
        var afterAll = await scenario.GetEmployeeAsync(employee.Id);
        Assert.Equal("opted_out", afterAll.Status);
        Assert.Equal(afterFirst.UpdatedAt, afterAll.UpdatedAt);
        Assert.Equal([BotConversation.NotRegisteredText], scenario.Stub.Sends.Where(s => s.To == stranger).Select(s => s.Text));
    }

    [Fact]
    public async Task JoinFromANewNumberRelinksTheEmployeeWithoutResendingAndRefusesUsedOrExpiredCodes()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(2);
        var (employeeId, oldPhone) = employees[0];
        const string newPhone = "+16505559001";
        await scenario.StartDispatchersAsync(1);
        var first = await scenario.CreateAnnouncementAsync(new { message = "First announcement" });
        await scenario.WaitForStatusAsync(first, "completed", Timeout);

        var issued = await scenario.Api.PostAsync($"/api/employees/{employeeId}/join-code", null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var code = (await issued.Content.ReadFromJsonAsync<Meta.JoinCodeView>())!;
        Assert.InRange(code.ExpiresAt, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
        await scenario.DeliverAsync(Meta.InboundText(newPhone, $"join {code.Code.ToLowerInvariant()}"));

        Assert.Equal([BotConversation.JoinedText], (await scenario.WaitForSendsToAsync(newPhone, 1)).Select(s => s.Text));
        var relinked = await scenario.GetEmployeeAsync(employeeId);
        Assert.Equal(newPhone, relinked.Phone);
        Assert.Equal($"Employee {employeeId}", relinked.Name);
        // The old number no longer belongs to anyone.
        await scenario.DeliverAsync(Meta.InboundText(oldPhone, "HELP"));
        Assert.Equal(BotConversation.NotRegisteredText, (await scenario.WaitForSendsToAsync(oldPhone, 2))[1].Text);

        // The code was single use: a second JOIN with it (from yet another number) is refused and links nothing.
        const string thirdPhone = "+16505559002";
        await scenario.DeliverAsync(Meta.InboundText(thirdPhone, $"JOIN {code.Code}"));
        Assert.Equal([BotConversation.BadCodeText], (await scenario.WaitForSendsToAsync(thirdPhone, 1)).Select(s => s.Text));
        Assert.Equal(newPhone, (await scenario.GetEmployeeAsync(employeeId)).Phone);

        // An expired code is refused the same way.
        var other = employees[1];
        var expiring = (await (await scenario.Api.PostAsync($"/api/employees/{other.Id}/join-code", null)).Content.ReadFromJsonAsync<Meta.JoinCodeView>())!;
        await scenario.Redis.KeyExpireAsync(RedisKeys.JoinCode(expiring.Code), TimeSpan.FromMilliseconds(1));
        await Eventually.WaitAsync(async () => !await scenario.Redis.KeyExistsAsync(RedisKeys.JoinCode(expiring.Code)), Timeout, "the code to expire");
        const string fourthPhone = "+16505559003";
        await scenario.DeliverAsync(Meta.InboundText(fourthPhone, $"JOIN {expiring.Code}"));
        Assert.Equal([BotConversation.BadCodeText], (await scenario.WaitForSendsToAsync(fourthPhone, 1)).Select(s => s.Text));
        Assert.Equal(other.Phone, (await scenario.GetEmployeeAsync(other.Id)).Phone);

        var second = await scenario.CreateAnnouncementAsync(new { message = "Second announcement" });
        var done = await scenario.WaitForStatusAsync(second, "completed", Timeout);

        Assert.Equal(2, done.Counts.Sent);
        Assert.Equal([BotConversation.JoinedText, "Second announcement"], (await scenario.WaitForSendsToAsync(newPhone, 2)).Select(s => s.Text));
        Assert.Equal(["First announcement", BotConversation.NotRegisteredText], scenario.Stub.Sends.Where(s => s.To == oldPhone).Select(s => s.Text));
    }

    [Fact]
    public async Task StopSkipsTheEmployeeInTheNextAnnouncementAndStartIncludesThemAgain()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(3);
        var stopper = employees[1];
        // The same person also works for another employer: one bot number serves all of them.
        using var otherEmployer = scenario.ClientFor(Scenario.OtherApiKey);
        var put = await otherEmployer.PutAsJsonAsync("/api/employees/x-1", new { phone = stopper.Phone, name = "Moonlighter" });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await scenario.StartDispatchersAsync(1);

        await scenario.DeliverAsync(Meta.InboundText(stopper.Phone, "Stop"));
        Assert.Equal([BotConversation.StoppedText], (await scenario.WaitForSendsToAsync(stopper.Phone, 1)).Select(s => s.Text));
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync(stopper.Id)).Status);
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync("x-1", otherEmployer)).Status);

        var whileAway = await scenario.CreateAnnouncementAsync(new { message = "While you were away" });
        var skipped = await scenario.WaitForStatusAsync(whileAway, "completed", Timeout);
        Assert.Equal(new Scenario.CountsView(3, 2, 0, 0, 0, 0, 1), skipped.Counts);
        Assert.Equal([stopper.Id], (await scenario.GetDeliveriesAsync(whileAway, "skipped")).Select(d => d.EmployeeId));

        await scenario.DeliverAsync(Meta.InboundText(stopper.Phone, "start"));
        Assert.Equal(BotConversation.StartedText, (await scenario.WaitForSendsToAsync(stopper.Phone, 2))[1].Text);
        Assert.Equal("active", (await scenario.GetEmployeeAsync(stopper.Id)).Status);
        Assert.Equal("active", (await scenario.GetEmployeeAsync("x-1", otherEmployer)).Status);

        var back = await scenario.CreateAnnouncementAsync(new { message = "Welcome back" });
        var included = await scenario.WaitForStatusAsync(back, "completed", Timeout);
        Assert.Equal(new Scenario.CountsView(3, 3, 0, 0, 0, 0, 0), included.Counts);
        Assert.Equal([BotConversation.StoppedText, BotConversation.StartedText, "Welcome back"],
            (await scenario.WaitForSendsToAsync(stopper.Phone, 3)).Select(s => s.Text));
    }
}
