using Bot.Core.Redis;
using System.Net;
using Bot.Tests.Harness;

namespace Bot.Tests.Webhook;

public sealed class StatusUpdateTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AThousandStatusesInOnePostAreAllApplied()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(1000);
        var phoneOf = employees.ToDictionary(e => e.Id, e => e.Phone);
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Payroll is out" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var sent = await scenario.GetDeliveriesAsync(id);
        Assert.Equal(1000, sent.Count(d => d is { State: "sent", MessageId: not null }));
        // Warm the endpoint up (first-request JIT), with a status nobody is waiting for.
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(Meta.NewMessageId(), "delivered", employees[0].Phone, null)));

        var body = Meta.Statuses([.. sent.Select(d => Meta.Status(d.MessageId!, "delivered", phoneOf[d.EmployeeId], $"{id}:{d.EmployeeId}"))]);
        var response = await scenario.PostAsync(body, Meta.Sign(body));
        await scenario.WaitForInboxProcessedAsync();

        // How fast: bench/Bot.Bench's webhook scenario; here, that every status lands.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = await scenario.GetAnnouncementAsync(id);
        Assert.Equal(new Scenario.CountsView(1000, 0, 1000, 0, 0, 0, 0), view.Counts);
        Assert.All(await scenario.GetDeliveriesAsync(id), d => Assert.Equal("delivered", d.State));
    }

    [Fact]
    public async Task StatusesNeverMoveBackwardsAndFailedKeepsItsCode()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(2);
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Shift change" });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        var sent = (await scenario.GetDeliveriesAsync(id)).ToDictionary(d => d.EmployeeId, d => d.MessageId!);
        var (reader, readerPhone) = employees[0];
        var (unreachable, unreachablePhone) = employees[1];

        // Meta does not promise order: 'read' may come before 'delivered', and a late 'sent' may follow both.
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(sent[reader], "read", readerPhone, $"{id}:{reader}")));
        await scenario.DeliverAsync(Meta.Statuses(
            Meta.Status(sent[reader], "delivered", readerPhone, $"{id}:{reader}"),
            Meta.Status(sent[reader], "sent", readerPhone, $"{id}:{reader}")));
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(sent[unreachable], "failed", unreachablePhone, $"{id}:{unreachable}", errorCode: 131026)));

        var view = await scenario.GetAnnouncementAsync(id);
        Assert.Equal(new Scenario.CountsView(2, 0, 0, 1, 1, 0, 0), view.Counts);
        var read = Assert.Single(await scenario.GetDeliveriesAsync(id, "read"));
        Assert.Equal(reader, read.EmployeeId);
        Assert.Equal(sent[reader], read.MessageId);
        var failed = Assert.Single(await scenario.GetDeliveriesAsync(id, "failed"));
        Assert.Equal(unreachable, failed.EmployeeId);
        Assert.Equal("131026", failed.Error);
    }

    [Fact]
    public async Task AnUnknownSendIsReconciledByItsSentStatusWithoutASecondSend()
    {
        await using var scenario = new Scenario(redis);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        // Accepted, but only after the client (5 s timeout) gave up: the outcome is unknown to the dispatcher.
        scenario.Stub.ForRecipient(phone).RespondWith(WhatsAppStub.AcceptedResponse(phone).WithDelay(TimeSpan.FromSeconds(8)));
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Did this arrive?" });
        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);
        Assert.Equal(1, done.Counts.Unknown);

        var messageId = Meta.NewMessageId();
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(messageId, "sent", phone, $"{id}:{employeeId}")));

        var reconciled = Assert.Single(await scenario.GetDeliveriesAsync(id));
        Assert.Equal("sent", reconciled.State);
        Assert.Equal(messageId, reconciled.MessageId);
        Assert.Equal(new Scenario.CountsView(1, 1, 0, 0, 0, 0, 0), (await scenario.GetAnnouncementAsync(id)).Counts);
        // Later statuses of that message count; a status of another message id for the same delivery does not.
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(Meta.NewMessageId(), "read", phone, $"{id}:{employeeId}")));
        await scenario.DeliverAsync(Meta.Statuses(Meta.Status(messageId, "delivered", phone, $"{id}:{employeeId}")));
        Assert.Equal("delivered", Assert.Single(await scenario.GetDeliveriesAsync(id)).State);
        // WireMock logs the slow request only once its delayed answer is written.
        await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.CountTo(phone)), n => n > 0, TimeSpan.FromSeconds(10), "the slow send logged");
        Assert.Equal(1, scenario.Stub.CountTo(phone));
    }
}
