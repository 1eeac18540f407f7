using StackExchange.Redis;

namespace Bot.Core.Redis;

/// <summary>
/// Every Redis key name is built here. The part in braces is the Redis Cluster hash tag: keys that a Lua
/// script touches together share one, so the scripts stay valid on a cluster.
/// </summary>
public static class RedisKeys
{
    /// <summary>ZSET: announcement id, score = due time (unix ms).</summary>
    public static readonly RedisKey Due = "announcements:{queue}:due";

    /// <summary>ZSET: announcement id, score = lease expiry (unix ms) of the dispatcher fanning it out.</summary>
    public static readonly RedisKey InFlight = "announcements:{queue}:inflight";

    /// <summary>Pub/sub channel a new "send now" announcement is announced on, so dispatchers wake at once.</summary>
    public static readonly RedisChannel WakeUp = RedisChannel.Literal("announcements:wakeup");

    public static RedisKey Employee(string employerId, string employeeId) => $"emp:{{{employerId}}}:{employeeId}";

    /// <summary>ZSET (all scores 0, ordered by id) of an employer's employee ids, for paging and audiences.</summary>
    public static RedisKey Employees(string employerId) => $"emps:{{{employerId}}}";

    /// <summary>HASH phone (E.164) → employee id, one per employer: a phone belongs to at most one employee.</summary>
    public static RedisKey Phones(string employerId) => $"phones:{{{employerId}}}";

    /// <summary>ZSET (scores 0) of "createdAt:id" members: an employer's announcements in creation order.</summary>
    public static RedisKey Announcements(string employerId) => $"anns:{{{employerId}}}";

    public static RedisKey Announcement(string announcementId) => $"ann:{{{announcementId}}}";

    /// <summary>LIST of the employee ids an announcement goes to, fixed before its first send.</summary>
    public static RedisKey Targets(string announcementId) => $"ann:{{{announcementId}}}:targets";

    /// <summary>STRING: the delivery record of one (announcement, employee), created with SET NX before the send.</summary>
    public static RedisKey Delivery(string announcementId, string employeeId) => $"ann:{{{announcementId}}}:d:{employeeId}";
}
