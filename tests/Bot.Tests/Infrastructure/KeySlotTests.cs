using System.Reflection;
using Bot.Core.Events;
using Bot.Core.Redis;
using Bot.Core.Tenants;
using Bot.Webhook.Webhook;
using StackExchange.Redis;

namespace Bot.Tests.Infrastructure;

/// <summary>
/// Redis Cluster runs a script or a multi-key command only when all its keys hash to one slot (else CROSSSLOT). Each
/// atomic step below is listed with the keys its call site passes, built by <see cref="RedisKeys"/> as the stores build
/// them; the real cluster says which slot each key is in. A new script or key shape is one line in <see cref="Steps"/>.
/// </summary>
public sealed class KeySlotTests(SharedRedisCluster cluster) : IClassFixture<SharedRedisCluster>
{
    private const string AnnouncementId = "0194f3b2c1d07a8e9b3c4d5e6f708192";
    private const string EmployerId = "acme";
    private const string SenderId = "sender-2";
    private const string MessageId = "wamid.HBgLMTY1MDU1NTAxMjMVAgASGBQzQUI=";

    /// <summary>Ids a client may choose, braces included: the key's own tag must still be the first <c>{…}</c>.</summary>
    private static readonly string[] EmployeeIds = ["e00001", "e00002", "a{b}", "}x{"];

    /// <summary>Every atomic multi-key step: a Lua script (by its <see cref="LuaScripts"/> name) or a multi-key command.</summary>
    private static readonly Dictionary<string, RedisKey[]> Steps = new()
    {
        [nameof(LuaScripts.ClaimDue)] = [RedisKeys.Due(SenderId), RedisKeys.InFlight(SenderId), RedisKeys.LeaseOwners(SenderId)],
        [nameof(LuaScripts.UpdateLease)] = [RedisKeys.Due(SenderId), RedisKeys.InFlight(SenderId), RedisKeys.LeaseOwners(SenderId)],
        [nameof(LuaScripts.ScheduleAnnouncement)] = [RedisKeys.Due(SenderId), RedisKeys.PendingCreations(SenderId)],
        [nameof(LuaScripts.ForgetCreation)] = [RedisKeys.PendingCreations(SenderId)],
        // The RedLock key of a sender's dispatch lock sits in the sender's slot too (the lock may live on the main cluster).
        ["A sender's queue keys and its lock"] = [RedisKeys.Due(SenderId), RedisKeys.Resends(SenderId), $"redlock:{RedisKeys.DispatchLock(SenderId)}"],
        [nameof(LuaScripts.CreateAnnouncement)] = [RedisKeys.Announcement(AnnouncementId), RedisKeys.Targets(AnnouncementId)],
        // The outbox (outbox-events.lua) is built inside the scripts from KEYS[1] like the buckets; EventKeys.Outbox is its shape.
        [nameof(LuaScripts.MoveAnnouncement)] = [.. RedisKeys.AnnouncementLifetime(AnnouncementId), EventKeys.Outbox(AnnouncementId)],
        [nameof(LuaScripts.RetryDeliveries)] = [RedisKeys.Announcement(AnnouncementId), RedisKeys.Attempts(AnnouncementId),
            .. EmployeeIds.Select(e => RedisKeys.Delivery(AnnouncementId, e)), RedisKeys.FoldedDeliveries(AnnouncementId, 7)],
        [nameof(LuaScripts.IdempotentRequest)] = [Bot.Core.Redis.IdempotencyStore.Key(EmployerId, "a{b}")],
        [nameof(LuaScripts.ClaimDelivery)] = [.. EmployeeIds.Select(e => RedisKeys.Delivery(AnnouncementId, e)), RedisKeys.Announcement(AnnouncementId),
            RedisKeys.Languages(AnnouncementId), RedisKeys.FoldedDeliveries(AnnouncementId, 7), EventKeys.Outbox(AnnouncementId)],
        [nameof(LuaScripts.TransitionDelivery)] = [RedisKeys.Announcement(AnnouncementId), .. EmployeeIds.Select(e => RedisKeys.Delivery(AnnouncementId, e)),
            RedisKeys.FoldedDeliveries(AnnouncementId, 7), EventKeys.Outbox(AnnouncementId)],
        [nameof(LuaScripts.GetDeliveries)] = [RedisKeys.Announcement(AnnouncementId), .. EmployeeIds.Select(e => RedisKeys.Delivery(AnnouncementId, e))],
        // Bucket keys are built inside the scripts from KEYS[1] (the announcement hash); RedisKeys.FoldedDeliveries is their shape.
        [nameof(LuaScripts.FoldDeliveries)] = [RedisKeys.Announcement(AnnouncementId), .. EmployeeIds.Select(e => RedisKeys.Delivery(AnnouncementId, e)),
            RedisKeys.FoldedDeliveries(AnnouncementId, 0), RedisKeys.FoldedDeliveries(AnnouncementId, 1234)],
        [nameof(LuaScripts.ReleaseDelivery)] = [RedisKeys.Delivery(AnnouncementId, "e00001")],
        [nameof(LuaScripts.UpsertEmployee)] = [.. EmployeeIds.Select(e => RedisKeys.Employee(EmployerId, e)), RedisKeys.Phones(EmployerId), RedisKeys.Employees(EmployerId)],
        [nameof(LuaScripts.SetEmployeeStatus)] = [.. EmployeeIds.Select(e => RedisKeys.Employee(EmployerId, e)), RedisKeys.Phones(EmployerId)],
        [nameof(LuaScripts.SetEmployeeUserId)] = [.. EmployeeIds.Select(e => RedisKeys.Employee(EmployerId, e)), RedisKeys.UserIds(EmployerId)],
        [nameof(LuaScripts.EmployeeStatuses)] = [.. EmployeeIds.Select(e => RedisKeys.Employee(EmployerId, e))],
        [nameof(LuaScripts.ReserveSendSlots)] = [RedisKeys.SendSlots(SenderId)],
        [nameof(LuaScripts.ReachRecipient)] = [RedisKeys.Reached("portfolio-1")],
        [nameof(LuaScripts.SwapDelivery)] = [RedisKeys.Delivery(AnnouncementId, "e00001"), RedisKeys.Announcement(AnnouncementId), RedisKeys.FoldedDeliveries(AnnouncementId, 7)],
        [nameof(LuaScripts.RecordAcknowledgement)] = [RedisKeys.Announcement(AnnouncementId), RedisKeys.Acknowledgements(AnnouncementId),
            EventKeys.Outbox(AnnouncementId)],
        [nameof(LuaScripts.TakeReminderGate)] = [.. EmployeeIds.Select(e => RedisKeys.ReminderGate(AnnouncementId, 1, e)), RedisKeys.Acknowledgements(AnnouncementId)],
        [nameof(LuaScripts.CountReminder)] = [RedisKeys.Announcement(AnnouncementId), RedisKeys.Reminders(AnnouncementId)],
        [nameof(LuaScripts.ReleaseReminderGate)] = [RedisKeys.ReminderGate(AnnouncementId, 1, "e00001")],
        [nameof(LuaScripts.AdvanceReminder)] = [RedisKeys.Announcement(AnnouncementId)],
        [nameof(LuaScripts.RescheduleAnnouncement)] = [RedisKeys.Due(SenderId)],
        [nameof(LuaScripts.CreateSeries)] = [RedisKeys.Series("series-1")],
        [nameof(LuaScripts.RecordOccurrence)] = [RedisKeys.Series("series-1"), RedisKeys.SeriesOccurrences("series-1")],
        [nameof(LuaScripts.ConsumeJoinCode)] = [RedisKeys.JoinCode("ABCD2345")],
        [nameof(LuaScripts.ClaimReply)] = [RedisKeys.Reply(MessageId)],
        [nameof(LuaScripts.CompleteStreamEntry)] = [RedisKeys.ReplyOutbox],
        [nameof(LuaScripts.TenantWrite)] = [TenantKeys.Version, TenantKeys.Audit, TenantKeys.EmployerAudit(EmployerId), TenantKeys.EmployerAudit("a{b}"),
            TenantKeys.Senders, TenantKeys.Portfolios, TenantKeys.Employers, TenantKeys.ApiKeys, TenantKeys.ApiKeyHashes, TenantKeys.ApiKeysUsed],
        ["MGET of an announcement's deliveries"] = [.. EmployeeIds.Select(e => RedisKeys.Delivery(AnnouncementId, e))],
        ["RENAMENX of a targets draft"] = [RedisKeys.Targets(AnnouncementId), $"{RedisKeys.Targets(AnnouncementId)}:draft:host.42.abcdef"],
        [nameof(LuaScripts.EnqueueReply)] = [RedisKeys.Reply(MessageId), RedisKeys.ReplyOutbox],
        [nameof(LuaScripts.SettleReply)] = [RedisKeys.Reply(MessageId), RedisKeys.ReplyOutbox],
        [nameof(LuaScripts.DeadLetterWebhook)] = [RedisKeys.WebhookInbox, WebhookInbox.DeadLetters],
        [nameof(LuaScripts.TakeWebhookEvents)] = [EventKeys.Events(EmployerId), EventKeys.Due(EmployerId)],
        [nameof(LuaScripts.ClaimWebhookEvents)] = [EventKeys.Due(EmployerId), EventKeys.Events(EmployerId)],
        [nameof(LuaScripts.SettleWebhookEvents)] = [EventKeys.Due(EmployerId), EventKeys.Events(EmployerId), EventKeys.Failed(EmployerId), EventKeys.Attempts(EmployerId)],
        ["DEL of an employer's event queue"] = [EventKeys.Due(EmployerId), EventKeys.Events(EmployerId), EventKeys.Failed(EmployerId)],
        [nameof(LuaScripts.ReplayWebhookEvents)] = [EventKeys.Failed(EmployerId), EventKeys.Due(EmployerId), EventKeys.Events(EmployerId)],
    };

    /// <summary>No prefix, and a prefix as <c>Redis:KeyPrefix</c> sets it (tests use one each).</summary>
    private static readonly string[] Prefixes = ["", SharedRedis.NewKeyPrefix(), "deployment-a:"];

    public static TheoryData<string> StepNames => [.. Steps.Keys];

    [Fact]
    public void TheClientComputesSlotsAsRedisDoes()
    {
        Assert.Equal(12182, cluster.Connection.HashSlot("foo"));
        Assert.Equal(12739, cluster.Connection.HashSlot("123456789"));
        Assert.Equal(cluster.Connection.HashSlot("{user1000}.following"), cluster.Connection.HashSlot("{user1000}.followers"));
        Assert.Equal(cluster.Connection.HashSlot("user1000"), cluster.Connection.HashSlot("{user1000}.following"));
    }

    [Theory]
    [MemberData(nameof(StepNames))]
    public async Task AllKeysOfAStepShareOneSlotWithAndWithoutAPrefix(string step)
    {
        foreach (var prefix in Prefixes)
        {
            var keys = Steps[step].Select(k => k.Prepend(prefix)).ToArray();
            var slots = await Task.WhenAll(keys.Select(KeySlotAsync));
            Assert.True(slots.Distinct().Count() == 1,
                $"{step} (prefix '{prefix}'): {string.Join(", ", keys.Zip(slots, (k, s) => $"{k} → {s}"))}");
            Assert.Equal(slots, keys.Select(k => cluster.Connection.HashSlot(k)));
        }
    }

    [Fact]
    public void EveryLuaScriptIsListed()
    {
        var scripts = typeof(LuaScripts).GetProperties(BindingFlags.Public | BindingFlags.Static).Select(p => p.Name);
        Assert.Empty(scripts.Except(Steps.Keys));
    }

    [Fact]
    public void APrefixWithABraceIsRefused()
    {
        // "x{:" would make ":ann:{id" the hash tag of one key and ":emp:{acme" of another: CROSSSLOT in every script.
        var error = Assert.Throws<InvalidOperationException>(() => new RedisKeyspace("x{:"));
        Assert.Contains(RedisKeyspace.ConfigurationKey, error.Message);
    }

    /// <summary>What the cluster itself says (CLUSTER KEYSLOT), not the client's own computation.</summary>
    private async Task<int> KeySlotAsync(RedisKey key)
    {
        var server = cluster.Connection.GetServers()[0];
        return (int)await server.ExecuteAsync("CLUSTER", "KEYSLOT", key.ToString());
    }
}
