using StackExchange.Redis;

namespace Bot.Core.Redis;

/// <summary>
/// Every Redis key name is built here. The part in braces is the Redis Cluster hash tag: keys that a Lua
/// script touches together share one, so the scripts stay valid on a cluster.
/// </summary>
public static class RedisKeys
{
    /// <summary>ZSET: announcement id, score = due time (unix ms). One per sender (the announcement's <c>sender</c>), so
    /// each sender's queue is dispatched by the replica holding that sender's lock, and lives in that sender's slot.</summary>
    public static RedisKey Due(string senderId) => $"sender:{{{senderId}}}:due";

    /// <summary>ZSET: announcement id, score = lease expiry (unix ms) of the dispatcher fanning it out.</summary>
    public static RedisKey InFlight(string senderId) => $"sender:{{{senderId}}}:inflight";

    /// <summary>HASH: announcement id → the dispatcher holding its in-flight lease; only the owner renews or ends it.</summary>
    public static RedisKey LeaseOwners(string senderId) => $"sender:{{{senderId}}}:owners";

    /// <summary>
    /// ZSET: ids of announcements being created, score = when creation began (unix ms). Written before anything
    /// else and cleared in the same step that queues the announcement, so an id left here for long marks a
    /// creation whose process died half-way (Redis Cluster has no transaction across the slots it writes).
    /// </summary>
    public static RedisKey PendingCreations(string senderId) => $"sender:{{{senderId}}}:creating";

    /// <summary>ZSET of "announcementId:employeeId" deliveries whose text WhatsApp failed with 131047, to re-send as the
    /// employer's fallback template; score = when to look at it (unix ms).</summary>
    public static RedisKey Resends(string senderId) => $"sender:{{{senderId}}}:resend";

    /// <summary>RedLock resource (outside the prefixed database) of the sender's dispatch: its holder dispatches the sender's queue.</summary>
    public static string DispatchLock(string senderId) => $"sender:{{{senderId}}}:lock";

    /// <summary>ZSET of live dispatcher replicas, score = when their heartbeat lapses (unix ms): each counts them to
    /// know its share of the sender locks.</summary>
    public static readonly RedisKey Dispatchers = "dispatchers:{replicas}";

    /// <summary>Pub/sub channel a new "send now" announcement's sender id is announced on, so its dispatcher wakes at once.</summary>
    public static readonly RedisChannel WakeUp = RedisChannel.Literal("announcements:wakeup");

    /// <summary>STRING: the next free send slot of a WhatsApp number (µs on Redis's clock), shared by every process.</summary>
    public static RedisKey SendSlots(string senderId) => $"sender:{{{senderId}}}:slots";

    /// <summary>
    /// ZSET of the unique recipients a portfolio's business-initiated messages reached, score = when (unix ms): its
    /// WhatsApp messaging limit counts them over a moving window.
    /// </summary>
    public static RedisKey Reached(string portfolioId) => $"portfolio:{{{portfolioId}}}:reached";

    /// <summary>HASH: a request sent with an Idempotency-Key (by the key's SHA-256) and its answer; TTL Api:IdempotencyRetention.</summary>
    public static RedisKey Idempotency(string employerId, string keyHash) => $"idem:{{{employerId}}}:{keyHash}";

    public static RedisKey Employee(string employerId, string employeeId) => $"emp:{{{employerId}}}:{employeeId}";

    /// <summary>ZSET (all scores 0, ordered by id) of an employer's employee ids, for paging and audiences.</summary>
    public static RedisKey Employees(string employerId) => $"emps:{{{employerId}}}";

    /// <summary>HASH phone (E.164) → employee id, one per employer: a phone belongs to at most one employee.</summary>
    public static RedisKey Phones(string employerId) => $"phones:{{{employerId}}}";

    /// <summary>ZSET (scores 0) of "sequence:id" members: an employer's announcements in creation order.</summary>
    public static RedisKey Announcements(string employerId) => $"anns:{{{employerId}}}";

    /// <summary>STRING counter numbering an employer's announcements.</summary>
    public static RedisKey AnnouncementSequence(string employerId) => $"anns:{{{employerId}}}:seq";

    public static RedisKey Announcement(string announcementId) => $"ann:{{{announcementId}}}";

    /// <summary>LIST of the employee ids an announcement goes to, fixed before its first send.</summary>
    public static RedisKey Targets(string announcementId) => $"ann:{{{announcementId}}}:targets";

    /// <summary>STRING: the delivery record of one (announcement, employee), created with SET NX before the send; its
    /// gate until the announcement is final, when the record moves into <see cref="FoldedDeliveries"/>.</summary>
    public static RedisKey Delivery(string announcementId, string employeeId) => $"ann:{{{announcementId}}}:d:{employeeId}";

    /// <summary>
    /// HASH employee id → packed delivery record: where an announcement's records live once it is final (see
    /// delivery-records.lua); the announcement hash's <c>foldBuckets</c> says how many there are. The scripts build
    /// these names from the announcement key, so this one is for tests and tools.
    /// </summary>
    public static RedisKey FoldedDeliveries(string announcementId, int bucket) => $"ann:{{{announcementId}}}:f:{bucket}";

    /// <summary>
    /// SET of "employerId:employeeId" members whose phone is (or once was) this E.164 number, across employers:
    /// an inbound WhatsApp message carries only the sender's number, and one bot number serves every employer.
    /// Readers confirm each member against the employee hash, so a stale member is harmless.
    /// </summary>
    public static RedisKey PhoneOwners(string phone) => $"wa:{{{phone}}}:owners";

    /// <summary>
    /// HASH "portfolio/BSUID" → employee id, one per employer: the WhatsApp user ids learned for its employees, kept
    /// in step with the employee hashes' <c>bsuid:&lt;portfolio&gt;</c> fields by one script.
    /// </summary>
    public static RedisKey UserIds(string employerId) => $"bsuids:{{{employerId}}}";

    /// <summary>
    /// SET of "employerId:employeeId" members a BSUID of a portfolio is (or was) learned for, across employers: a
    /// message from a user whose number is withheld carries only the BSUID. Readers confirm each member against the
    /// employee hash, so a stale member is harmless.
    /// </summary>
    public static RedisKey UserIdOwners(string portfolioId, string userId) => $"bsuid:{{{portfolioId}/{userId}}}:owners";

    /// <summary>STRING set NX with a TTL: a "not registered" reply went to this number recently.</summary>
    public static RedisKey NotRegisteredReplied(string phone) => $"wa:{{{phone}}}:notreg";

    /// <summary>Counter of refused JOIN attempts from this number in the current hour (brute-force brake).</summary>
    public static RedisKey JoinFailures(string phone) => $"wa:{{{phone}}}:joinfail";

    /// <summary>STRING "employerId:employeeId" of a one-time join code, with its expiry as TTL; marked used by one message.</summary>
    public static RedisKey JoinCode(string code) => $"join:{{{code}}}";

    /// <summary>STRING set when an inbound message has been processed (after its effect and its reply are stored).</summary>
    public static RedisKey WebhookEvent(string eventId) => $"wh:{{{eventId}}}";

    /// <summary>STREAM: signed webhook bodies, appended before the 200 and processed by the inbox workers
    /// (consumer group <c>workers</c>), deleted once processed.</summary>
    public static readonly RedisKey WebhookInbox = "webhook:{inbox}";

    /// <summary>STREAM: bot replies waiting to be sent (consumer group <c>senders</c>).</summary>
    public static readonly RedisKey ReplyOutbox = "webhook:{outbox}";

    /// <summary>STRING: the one reply to an inbound message (queued → sending → sent/failed/unknown), created with
    /// SET NX together with its outbox entry. Same hash tag as the outbox so one script writes both.</summary>
    public static RedisKey Reply(string inboundMessageId) => $"webhook:{{outbox}}:reply:{inboundMessageId}";

    /// <summary>HASH employee id → when they tapped "Got it" (unix ms), written once per employee (HSETNX).</summary>
    public static RedisKey Acknowledgements(string announcementId) => $"ann:{{{announcementId}}}:acks";

    /// <summary>HASH employee id → how many reminders WhatsApp accepted for them.</summary>
    public static RedisKey Reminders(string announcementId) => $"ann:{{{announcementId}}}:reminders";

    /// <summary>HASH employee id → attempts of a delivery retried on request (2 after the first retry); absent = 1.</summary>
    public static RedisKey Attempts(string announcementId) => $"ann:{{{announcementId}}}:attempts";

    /// <summary>HASH employee id → the language of the template variant their delivery was sent as (templates only).</summary>
    public static RedisKey Languages(string announcementId) => $"ann:{{{announcementId}}}:languages";

    /// <summary>STRING: the media an announcement carries (<see cref="Media.MediaStore"/>).</summary>
    public static RedisKey AnnouncementMedia(string announcementId) => $"ann:{{{announcementId}}}:media";

    /// <summary>
    /// The announcement hash, then every key that lives exactly as long as it (one slot): the move that ends it gives
    /// them all Announcements:Retention (move-announcement.lua). Delivery records and reminder gates have their own
    /// TTL (Dispatcher:DeliveryRetention from their claim).
    /// </summary>
    public static RedisKey[] AnnouncementLifetime(string announcementId) =>
        [Announcement(announcementId), Targets(announcementId), Acknowledgements(announcementId), Reminders(announcementId),
            Attempts(announcementId), AnnouncementMedia(announcementId), Languages(announcementId)];

    /// <summary>STRING set NX (with the delivery retention as TTL) before reminder <paramref name="reminder"/> goes to the employee.</summary>
    public static RedisKey ReminderGate(string announcementId, int reminder, string employeeId) => $"ann:{{{announcementId}}}:r{reminder}:{employeeId}";
    /// <summary>HASH: a recurring series (its rule, zone, first occurrence, the announcement each occurrence copies, status).
    /// Its id is the id of its first occurrence.</summary>
    public static RedisKey Series(string seriesId) => $"series:{{{seriesId}}}";

    /// <summary>ZSET of a series' created occurrences (announcement ids), score = occurrence time (unix ms). Same hash tag as
    /// the series, so one script checks the series is active and records the occurrence.</summary>
    public static RedisKey SeriesOccurrences(string seriesId) => $"series:{{{seriesId}}}:occ";

    /// <summary>ZSET of active series, score = when their next occurrence not yet created is due (unix ms): the series
    /// scheduler creates it a horizon ahead.</summary>
    public static readonly RedisKey ActiveSeries = "announcements:{series}:active";
}
