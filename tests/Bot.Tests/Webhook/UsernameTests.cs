using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Webhook.Webhook;
using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Webhook;

/// <summary>Employees whose number WhatsApp withholds (a username): matched by the BSUIDs WhatsApp reports.</summary>
public sealed class UsernameTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>The default sender's portfolio: a sender without one is its own (<see cref="SenderOptions.Portfolio"/>).</summary>
    private const string Portfolio = Sender.Default;

    [Fact]
    public async Task StatusesTeachEachEmployeeTheirBsuid()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(2);
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Payroll is out" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var sent = (await scenario.GetDeliveriesAsync(id)).ToDictionary(d => d.EmployeeId, d => d.MessageId!);
        var userIds = employees.ToDictionary(e => e.Id, _ => MetaUsers.NewUserId());

        await scenario.DeliverAsync(Meta.Statuses([.. employees.Select(e => MetaUsers.Status(sent[e.Id], "delivered", e.Phone, $"{id}:{e.Id}", userIds[e.Id]))]));
        // Statuses repeat: the same BSUID again changes nothing.
        await scenario.DeliverAsync(Meta.Statuses(MetaUsers.Status(sent[employees[0].Id], "read", employees[0].Phone, $"{id}:{employees[0].Id}", userIds[employees[0].Id])));

        foreach (var (employeeId, _) in employees)
        {
            var view = await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees/{employeeId}");
            Assert.Equal(userIds[employeeId], view!["whatsappUserIds"]![Portfolio]!.GetValue<string>());
            Assert.Single(view["whatsappUserIds"]!.AsObject());
        }
        Assert.Equal(["acme:" + employees[1].Id], (await scenario.Redis.SetMembersAsync(RedisKeys.UserIdOwners(Portfolio, userIds[employees[1].Id]))).Select(m => (string)m!));
    }

    [Fact]
    public async Task ABsuidOnlyStopOptsTheEmployeeOutAndTheReplyGoesToTheBsuid()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(3);
        var (stopperId, stopperPhone) = employees[1];
        var userId = MetaUsers.NewUserId();
        // Learned from a message that carries both the number and the BSUID (with the username).
        await scenario.DeliverAsync(MetaUsers.Text(stopperPhone, userId, "hello", username: "@sheena"));
        await scenario.DeliverAsync(MetaUsers.Text(null, userId, "STOP"));
        // A BSUID nobody has changes nothing and is answered by nothing.
        var stranger = MetaUsers.NewUserId();
        await scenario.DeliverAsync(MetaUsers.Text(null, stranger, "STOP"));

        Assert.Equal([BotConversation.StoppedText], (await scenario.WaitForSendsToAsync(userId, 1)).Select(s => s.Text));
        Assert.Null(scenario.Stub.Sends.Single(s => s.To == userId).Body["to"]);
        var view = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees/{stopperId}"))!;
        Assert.Equal(("opted_out", "@sheena"), (view["status"]!.GetValue<string>(), view["username"]!.GetValue<string>()));

        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "While you were away" });
        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);
        Assert.Equal(new Scenario.CountsView(3, 2, 0, 0, 0, 0, 1), done.Counts);
        Assert.Equal([stopperId], (await scenario.GetDeliveriesAsync(id, "skipped")).Select(d => d.EmployeeId));
        Assert.Equal(0, scenario.Stub.CountTo(stranger));
        Assert.All(employees.Where(e => e.Id != stopperId), e => Assert.Equal(1, scenario.Stub.CountTo(e.Phone)));
        foreach (var (employeeId, _) in employees.Where(e => e.Id != stopperId))
            Assert.Equal("active", (await scenario.GetEmployeeAsync(employeeId)).Status);
    }

    [Fact]
    public async Task ABsuidOnlyMessageOpensTheWindowAndItsTapIsCountedOnce()
    {
        await using var scenario = new Scenario(redis);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        var userId = MetaUsers.NewUserId();
        await scenario.DeliverAsync(MetaUsers.Text(phone, userId, "hello", DateTimeOffset.UtcNow.AddHours(-30)));
        var store = scenario.AppServices.GetRequiredService<EmployeeStore>();
        var before = (await store.GetManyAsync(scenario.EmployerId, [employeeId], Sender.Default))[0]!;

        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        await scenario.DeliverAsync(MetaUsers.Text(null, userId, "hi again", at));
        var after = (await store.GetManyAsync(scenario.EmployerId, [employeeId], Sender.Default))[0]!;
        Assert.False(before.InWindow(DateTimeOffset.UtcNow, TimeSpan.FromHours(24)));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds()), after.LastInboundAt);
        Assert.Equal([BotConversation.HelpText], (await scenario.WaitForSendsToAsync(userId, 1)).Select(s => s.Text));

        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Read the new policy", acknowledgement = new { required = true } });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        // Inside the window the announcement went as a free-form message with the "Got it" button.
        Assert.Equal("interactive", scenario.Stub.Sends.Last(s => s.To == phone).Body["type"]!.GetValue<string>());
        await scenario.DeliverAsync(MetaUsers.ButtonReply(userId, $"ack:{id}"));
        await scenario.DeliverAsync(MetaUsers.ButtonReply(userId, $"ack:{id}"));

        var view = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/announcements/{id}"))!;
        Assert.Equal(1, view["counts"]!["acknowledged"]!.GetValue<long>());
        Assert.Equal([employeeId], (await scenario.Redis.HashKeysAsync(RedisKeys.Acknowledgements(id))).Select(k => (string)k!));
    }

    [Fact]
    public async Task UserChangedNumberMovesTheEmployeeWithoutResendingAndRefusesANumberAnotherEmployeeHolds()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(3);
        var (movedId, oldPhone) = employees[0];
        const string newPhone = "+16505559101";
        await scenario.StartDispatchersAsync(1);
        var first = await scenario.CreateAnnouncementAsync(new { message = "First announcement" });
        await scenario.WaitForStatusAsync(first, "completed", Timeout);
        var userId = MetaUsers.NewUserId();
        await scenario.DeliverAsync(MetaUsers.Text(oldPhone, userId, "hello"));

        await scenario.DeliverAsync(MetaUsers.ChangedNumber(oldPhone, newPhone));
        // Another employee reports (in the older payload) moving to a number the third one holds: not taken, recorded.
        await scenario.DeliverAsync(MetaUsers.ChangedNumber(employees[1].Phone, employees[2].Phone, legacy: true));

        var moved = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees/{movedId}"))!;
        Assert.Equal((newPhone, PhoneChanges.ByWhatsApp), (moved["phone"]!.GetValue<string>(), moved["phoneChangedBy"]!.GetValue<string>()));
        Assert.InRange(moved["phoneChangedAt"]!.GetValue<DateTimeOffset>(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        // The old number's BSUID belonged to the old number's account.
        Assert.Empty(moved["whatsappUserIds"]!.AsObject());
        Assert.Empty(await scenario.Redis.SetMembersAsync(RedisKeys.PhoneOwners(oldPhone)));
        var refused = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees/{employees[1].Id}"))!;
        Assert.Equal(employees[1].Phone, refused["phone"]!.GetValue<string>());
        Assert.Equal(employees[2].Phone, refused["phoneChangeRefused"]!["phone"]!.GetValue<string>());
        Assert.Null(refused["phoneChangedAt"]);
        // Both are in the employer's audit, by WhatsApp.
        var audit = (await scenario.Api.GetFromJsonAsync<JsonNode>("/api/audit"))!["items"]!.AsArray()
            .Select(e => (e!["actor"]!.GetValue<string>(), e["action"]!.GetValue<string>(), e["target"]!.GetValue<string>())).ToList();
        Assert.Contains(("whatsapp", "employee.phone_changed", movedId), audit);
        Assert.Contains(("whatsapp", "employee.phone_change_refused", employees[1].Id), audit);

        var second = await scenario.CreateAnnouncementAsync(new { message = "Second announcement" });
        var done = await scenario.WaitForStatusAsync(second, "completed", Timeout);
        Assert.Equal(3, done.Counts.Sent);
        Assert.Equal(["Second announcement"], (await scenario.WaitForSendsToAsync(newPhone, 1)).Select(s => s.Text));
        Assert.Equal(["First announcement", BotConversation.HelpText], scenario.Stub.Sends.Where(s => s.To == oldPhone).Select(s => s.Text));
        Assert.Equal(3, (await scenario.GetDeliveriesAsync(first)).Count);
    }

    [Fact]
    public async Task AJoinCodeFromABsuidOnlyAccountLinksItAndItsStopThenCounts()
    {
        await using var scenario = new Scenario(redis);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        var issued = await scenario.Api.PostAsync($"/api/employees/{employeeId}/join-code", null);
        var code = (await issued.Content.ReadFromJsonAsync<Meta.JoinCodeView>())!;
        var userId = MetaUsers.NewUserId();

        await scenario.DeliverAsync(MetaUsers.Text(null, userId, $"JOIN {code.Code}"));
        await scenario.DeliverAsync(MetaUsers.Text(null, userId, "STOP"));

        Assert.Equal([BotConversation.JoinedText, BotConversation.StoppedText], (await scenario.WaitForSendsToAsync(userId, 2)).Select(s => s.Text));
        var view = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees/{employeeId}"))!;
        // The phone stays as the employer set it: the account's number is not known.
        Assert.Equal((phone, "opted_out"), (view["phone"]!.GetValue<string>(), view["status"]!.GetValue<string>()));
        Assert.Equal(userId, view["whatsappUserIds"]![Portfolio]!.GetValue<string>());
    }

    [Fact]
    public async Task AnOlderStopWorkedOffAfterALaterStartDoesNotOptTheEmployeeOut()
    {
        await using var scenario = new Scenario(redis);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        var userId = MetaUsers.NewUserId();
        var now = DateTimeOffset.UtcNow;
        // Two hosts: the START (sent later) was worked off first, the STOP (sent earlier) after it.
        await scenario.DeliverAsync(MetaUsers.Text(phone, userId, "START", now.AddSeconds(-5)));
        await scenario.DeliverAsync(MetaUsers.Text(phone, userId, "STOP", now.AddSeconds(-10)));
        Assert.Equal("active", (await scenario.GetEmployeeAsync(employeeId)).Status);

        await scenario.DeliverAsync(MetaUsers.Text(null, userId, "STOP", now.AddSeconds(-1)));
        Assert.Equal("opted_out", (await scenario.GetEmployeeAsync(employeeId)).Status);
    }
}
