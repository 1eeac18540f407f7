using System.Collections.Concurrent;
using System.Reflection;

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
    public static string ClaimDelivery => WithRecords("claim-delivery.lua");
    public static string TransitionDelivery => WithRecords("transition-delivery.lua");
    public static string GetDeliveries => WithRecords("get-deliveries.lua");
    public static string FoldDeliveries => WithRecords("fold-deliveries.lua");
    public static string UpsertEmployee => Load("upsert-employee.lua");
    public static string SetEmployeeStatus => Load("set-employee-status.lua");
    public static string CreateAnnouncement => Load("create-announcement.lua");
    public static string SetAnnouncementStatus => Load("set-announcement-status.lua");
    public static string ReleaseDelivery => Load("release-delivery.lua");
    public static string EmployeeStatuses => Load("employee-statuses.lua");
    public static string ScheduleAnnouncement => Load("schedule-announcement.lua");
    public static string ForgetCreation => Load("forget-creation.lua");
    public static string ReserveSendSlots => Load("reserve-send-slots.lua");
    public static string ReachRecipient => Load("reach-recipient.lua");
    public static string SwapDelivery => WithRecords("swap-delivery.lua");
    public static string RecordAcknowledgement => Load("record-acknowledgement.lua");
    public static string TakeReminderGate => Load("take-reminder-gate.lua");
    public static string TenantWrite => Load("tenant-write.lua");

    /// <summary>A script that reads or writes delivery records, after delivery-records.lua (where a record lives, packing).</summary>
    private static string WithRecords(string name) => Cache.GetOrAdd("records+" + name, static n =>
        Load("delivery-records.lua") + Load(n["records+".Length..]));

    private static string Load(string name) => Cache.GetOrAdd(name, static n =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(n)
            ?? throw new InvalidOperationException($"Embedded Lua script '{n}' is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
