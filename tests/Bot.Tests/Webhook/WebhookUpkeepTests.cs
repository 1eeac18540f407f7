using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Bot.Webhook.Webhook;
using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Webhook;

/// <summary>What the webhook host keeps in Redis stays true and bounded: reply records, dead letters, the global indexes.</summary>
public sealed class WebhookUpkeepTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AReplySlowerThanClaimAfterIsSentOnceAndItsRecordStaysSent()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Webhook:ClaimAfter"] = "00:00:00.200" });
        const string phone = "+16505550301";
        // WhatsApp answers after several stale-claim rounds of this very process.
        scenario.Stub.ForRecipient(phone).RespondWith(WhatsAppStub.AcceptedResponse(phone).WithDelay(TimeSpan.FromSeconds(1.5)));
        var message = Meta.NewMessageId();

        await scenario.DeliverAsync(Meta.InboundText(phone, "hello", message));
        await Eventually.WaitAsync(async () => await scenario.Redis.StreamLengthAsync(RedisKeys.ReplyOutbox) == 0, Timeout, "the outbox drained");

        var outbox = scenario.AppServices.GetRequiredService<ReplyOutbox>();
        var state = await outbox.StateAsync(message);
        Assert.StartsWith("sent|wamid.", state);
        Assert.Equal([BotConversation.NotRegisteredText], scenario.Stub.Sends.Where(s => s.To == phone).Select(s => s.Text));
        // A replica that took the entry over settles it unknown: the record that says sent stays sent.
        await outbox.SettleAsync(new Reply("0-1", message, Sender.Default, phone, "hello"), "unknown");
        Assert.Equal(state, await outbox.StateAsync(message));
    }

    [Fact]
    public async Task TheDeadLetterStreamKeepsOnlyTheNewestDeadLetterMaxEntries()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Webhook:ClaimAfter"] = "00:00:00.200",
            ["Webhook:MaxAttempts"] = "1",
            ["Webhook:DeadLetterMax"] = "2",
        });
        // Not payloads a worker can read (a POST like them is refused with 400; these got in some other way).
        foreach (var i in new[] { 1, 2, 3 }) await scenario.Redis.StreamAddAsync(RedisKeys.WebhookInbox, "body", $"{{not json {i}");
        await scenario.ClientFor(null).GetAsync("/health/live");

        await scenario.WaitForInboxProcessedAsync();
        var dead = await scenario.Redis.StreamRangeAsync(WebhookInbox.DeadLetters);
        Assert.Equal(["{not json 2", "{not json 3"], dead.Select(e => (string?)e["body"]));
    }

    [Fact]
    public async Task GlobalIndexesForgetANumberAndABsuidTheEmployeeLeftAndARemovedEmployee()
    {
        await using var scenario = new Scenario(redis);
        var (employeeId, oldPhone) = (await scenario.AddEmployeesAsync(1))[0];
        var member = $"{scenario.EmployerId}:{employeeId}";
        var first = MetaUsers.NewUserId();
        await scenario.DeliverAsync(MetaUsers.Text(oldPhone, first, "hello"));
        Assert.Equal([member], (await scenario.Redis.SetMembersAsync(RedisKeys.UserIdOwners(Sender.Default, first))).Select(m => (string)m!));

        // WhatsApp reports a new BSUID for the same number (user_changed_user_id): the old one names nobody any more.
        var second = MetaUsers.NewUserId();
        await scenario.DeliverAsync(Meta.Envelope(new Dictionary<string, object?>
        {
            ["messages"] = new[] { new { from = Meta.WaId(oldPhone), id = Meta.NewMessageId(), timestamp = "1751142888", type = "system", system = new { body = "User A changed their user id", user_id = second, type = "user_changed_user_id" } } },
        }));
        var view = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees/{employeeId}"))!;
        Assert.Equal(second, view["whatsappUserIds"]![Sender.Default]!.GetValue<string>());
        Assert.Empty(await scenario.Redis.SetMembersAsync(RedisKeys.UserIdOwners(Sender.Default, first)));

        // The employer moves them to another number: the old number's index and the account's BSUID forget them.
        const string newPhone = "+16505550302";
        var put = await scenario.Api.PutAsJsonAsync($"/api/employees/{employeeId}", new { phone = newPhone, name = "Moved" });
        put.EnsureSuccessStatusCode();
        Assert.Empty(await scenario.Redis.SetMembersAsync(RedisKeys.PhoneOwners(oldPhone)));
        Assert.Empty(await scenario.Redis.SetMembersAsync(RedisKeys.UserIdOwners(Sender.Default, second)));
        Assert.Equal(0, await scenario.Redis.HashLengthAsync(RedisKeys.UserIds(scenario.EmployerId)));
        Assert.Equal([member], (await scenario.Redis.SetMembersAsync(RedisKeys.PhoneOwners(newPhone))).Select(m => (string)m!));

        // Removed: found by nothing.
        var third = MetaUsers.NewUserId();
        await scenario.DeliverAsync(MetaUsers.Text(newPhone, third, "hello"));
        (await scenario.Api.DeleteAsync($"/api/employees/{employeeId}")).EnsureSuccessStatusCode();
        Assert.Empty(await scenario.Redis.SetMembersAsync(RedisKeys.PhoneOwners(newPhone)));
        Assert.Empty(await scenario.Redis.SetMembersAsync(RedisKeys.UserIdOwners(Sender.Default, third)));
        Assert.Equal(0, await scenario.Redis.HashLengthAsync(RedisKeys.UserIds(scenario.EmployerId)));
        Assert.Empty(await scenario.AppServices.GetRequiredService<WhatsAppUserIds>().FindAsync(Sender.Default, third));
    }
}
