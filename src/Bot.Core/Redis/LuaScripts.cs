using System.Collections.Concurrent;
using System.Reflection;
using StackExchange.Redis;

namespace Bot.Core.Redis;

/// <summary>
/// The Lua scripts in Redis/Scripts, embedded in this assembly. StackExchange.Redis caches each script's
/// SHA and sends EVALSHA after the first call.
/// </summary>
public static class LuaScripts
{
    private static readonly ConcurrentDictionary<string, string> Cache = new();

    public static string ClaimDue => Load("claim-due.lua");
    public static string UpdateLease => Load("update-lease.lua");
    public static string ClaimDelivery => WithEvents("claim-delivery.lua", records: true);
    public static string TransitionDelivery => WithEvents("transition-delivery.lua", records: true);
    public static string GetDeliveries => WithRecords("get-deliveries.lua");
    public static string FoldDeliveries => WithRecords("fold-deliveries.lua");
    public static string UpsertEmployee => Load("upsert-employee.lua");
    public static string SetEmployeeStatus => Load("set-employee-status.lua");
    public static string SetEmployeeUserId => Load("set-employee-user-id.lua");
    public static string CreateAnnouncement => Load("create-announcement.lua");
    public static string MoveAnnouncement => WithEvents("move-announcement.lua");
    public static string ReleaseDelivery => Load("release-delivery.lua");
    public static string EmployeeStatuses => Load("employee-statuses.lua");
    public static string ScheduleAnnouncement => Load("schedule-announcement.lua");
    public static string ForgetCreation => Load("forget-creation.lua");
    public static string ReserveSendSlots => Load("reserve-send-slots.lua");
    public static string ReachRecipient => Load("reach-recipient.lua");
    public static string SwapDelivery => WithRecords("swap-delivery.lua");
    public static string RetryDeliveries => WithRecords("retry-deliveries.lua");
    public static string RecordAcknowledgement => WithEvents("record-acknowledgement.lua");
    public static string TakeReminderGate => Load("take-reminder-gate.lua");
    public static string ReleaseReminderGate => Load("release-reminder-gate.lua");
    public static string CountReminder => Load("count-reminder.lua");
    public static string AdvanceReminder => Load("advance-reminder.lua");
    public static string RescheduleAnnouncement => Load("reschedule-announcement.lua");
    public static string CreateSeries => Load("create-series.lua");
    public static string RecordOccurrence => Load("record-occurrence.lua");
    public static string TenantWrite => Load("tenant-write.lua");
    public static string IdempotentRequest => Load("idempotent-request.lua");
    public static string TakeWebhookEvents => Load("take-webhook-events.lua");
    public static string ClaimWebhookEvents => Load("claim-webhook-events.lua");
    public static string SettleWebhookEvents => Load("settle-webhook-events.lua");
    public static string ReplayWebhookEvents => Load("replay-webhook-events.lua");

    // Scripts with named parameters (@key), for call sites that pass an anonymous object.
    public static LuaScript ConsumeJoinCode => Prepared("consume-join-code.lua");
    public static LuaScript EnqueueReply => Prepared("enqueue-reply.lua");
    public static LuaScript ClaimReply => Prepared("claim-reply.lua");
    public static LuaScript SettleReply => Prepared("settle-reply.lua");
    public static LuaScript CompleteStreamEntry => Prepared("complete-stream-entry.lua");
    public static LuaScript DeadLetterWebhook => Prepared("dead-letter-webhook.lua");

    private static readonly ConcurrentDictionary<string, LuaScript> PreparedCache = new();

    private static LuaScript Prepared(string name) => PreparedCache.GetOrAdd(name, static n => LuaScript.Prepare(Load(n)));

    /// <summary>A script that reads or writes delivery records, after delivery-records.lua (where a record lives, packing).</summary>
    private static string WithRecords(string name) => Cache.GetOrAdd("records+" + name, static n =>
        Load("delivery-records.lua") + Load(n["records+".Length..]));

    /// <summary>A script that changes a state employers hear about, after outbox-events.lua (where its events go).</summary>
    private static string WithEvents(string name, bool records = false) => Cache.GetOrAdd("events+" + name, static (_, a) =>
        Load("outbox-events.lua") + (a.records ? WithRecords(a.name) : Load(a.name)), (name, records));

    private static string Load(string name) => Cache.GetOrAdd(name, static n =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(n)
            ?? throw new InvalidOperationException($"Embedded Lua script '{n}' is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
