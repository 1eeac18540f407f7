using StackExchange.Redis;

namespace Bot.Core.Events;

/// <summary>
/// The keys of events out. An announcement's outbox shares the announcement's hash slot (the scripts that change its
/// state write it, see outbox-events.lua); everything else of an employer's endpoint shares the employer's slot, so the
/// worker's claim and settle scripts touch one slot each.
/// </summary>
public static class EventKeys
{
    /// <summary>STREAM: an announcement's events (consumer group <see cref="Group"/>), written by the state scripts while
    /// the announcement hash has <c>events=1</c>. Built inside the scripts from the announcement key; this is its shape.</summary>
    public static RedisKey Outbox(string announcementId) => $"ann:{{{announcementId}}}:events";

    /// <summary>The consumer group of every outbox.</summary>
    public const string Group = "webhooks";

    /// <summary>HASH: the employer's endpoint (url, events, secret).</summary>
    public static RedisKey Endpoint(string employerId) => $"hooks:{{{employerId}}}";

    /// <summary>ZSET announcement id → when flagged (unix ms): the outboxes of an employer the worker reads.</summary>
    public static RedisKey Outboxes(string employerId) => $"hooks:{{{employerId}}}:outboxes";

    /// <summary>HASH event id → the event with its attempt count (JSON), from taken off an outbox until sent or replayed.</summary>
    public static RedisKey Events(string employerId) => $"hooks:{{{employerId}}}:events";

    /// <summary>ZSET event id → when its next attempt is due (unix ms); a claimed event's score is its claim's expiry.</summary>
    public static RedisKey Due(string employerId) => $"hooks:{{{employerId}}}:due";

    /// <summary>ZSET event id → when it was given up (unix ms): kept for <c>replay</c>.</summary>
    public static RedisKey Failed(string employerId) => $"hooks:{{{employerId}}}:failed";

    /// <summary>LIST of the latest attempts (JSON), newest first, trimmed.</summary>
    public static RedisKey Attempts(string employerId) => $"hooks:{{{employerId}}}:attempts";

    /// <summary>SET of employer ids with an endpoint: what the worker walks.</summary>
    public static readonly RedisKey Employers = "hooks:{employers}";
}
