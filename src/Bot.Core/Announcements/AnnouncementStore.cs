using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bot.Core.Acknowledgements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Events;
using Bot.Core.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Core.Announcements;

public enum CreateOutcome { Created, Replayed, KeyReusedWithOtherRequest }

public enum CancelOutcome { Cancelled, NotFound, TooLate }

public sealed partial class AnnouncementStore(IDatabase db, AnnouncementQueues queues, TimeProvider time, IOptions<AnnouncementOptions>? options = null)
{
    /// <summary>Every status change of an announcement goes through here.</summary>
    public AnnouncementLifecycle Lifecycle { get; } = new(db, time, options?.Value.Retention);

    private readonly EndpointStore endpoints = new(db, time);

    /// <summary>
    /// Stores and schedules an announcement. With an idempotency key the id is derived from (employer, key), so
    /// a repeated request (double click, client or proxy retry) finds the first one instead of making another.
    /// </summary>
    /// <remarks>
    /// An announcement lives in three hash slots — its own (hash and targets), its employer's index and its sender's
    /// queue — and Redis Cluster has no transaction across slots, so each slot is written by one atomic step. The first
    /// step marks the creation in the queue's slot; the last queues it and clears the mark in one script. A process
    /// that dies in between leaves the mark, and <see cref="RepairCreationsAsync"/> finishes its work.
    /// </remarks>
    /// <param name="senderId">The WhatsApp sender the employer's announcements go out from now, kept for the record; the
    /// announcement waits in this sender's queue (the dispatcher sends from the employer's sender at send time).</param>
    public Task<(CreateOutcome Outcome, string Id)> CreateAsync(NewAnnouncement request, string? idempotencyKey, string senderId = AnnouncementQueues.DefaultSender) =>
        CreateAsync(idempotencyKey is null ? NewId() : DeriveId(request.EmployerId, idempotencyKey), request, senderId);

    /// <summary>
    /// The announcement an Idempotency-Key of a create stands for while the key is remembered (<paramref name="retention"/>,
    /// Api:IdempotencyRetention): the one it was first used for, else a new id. SET NX, so two requests with the same key at
    /// once get one id (and create-announcement.lua makes that one announcement). Once the key is forgotten it makes a new
    /// announcement, as any new key would.
    /// </summary>
    public async Task<string> IdForKeyAsync(string employerId, string idempotencyKey, TimeSpan retention)
    {
        var record = IdempotencyStore.Key(employerId, "announcement\n" + idempotencyKey);
        // Announcements created before keys were remembered on their own have the id derived from the key: a repeat of such
        // a request while it is young enough is still the same announcement.
        var derived = DeriveId(employerId, idempotencyKey);
        var createdAt = await db.HashGetAsync(RedisKeys.Announcement(derived), "createdAt");
        var candidate = !createdAt.IsNull && time.GetUtcNow() - Clock.FromUnixMs((long)createdAt) < retention ? derived : NewId();
        while (true)
        {
            if (await db.StringSetAsync(record, candidate, retention, When.NotExists)) return candidate;
            // Taken by the first request with this key (read it, unless it expired this very moment: then take it).
            if ((string?)await db.StringGetAsync(record) is { } id) return id;
        }
    }

    /// <summary>A fresh announcement id.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N");

    /// <summary>Stores and schedules an announcement under an id the caller derived (a series' occurrence); idempotent per id.</summary>
    public async Task<(CreateOutcome Outcome, string Id)> CreateAsync(string id, NewAnnouncement request, string senderId)
    {
        var requestHash = Hash(request);
        var now = time.GetUtcNow();
        var sendAt = request.SendAt ?? now;
        var marked = queues.Of(senderId).MarkCreatingAsync(id);
        // Orders the employer's list; a replay wastes a number, which is harmless.
        var sequence = db.StringIncrementAsync(RedisKeys.AnnouncementSequence(request.EmployerId));
        await Task.WhenAll(marked, sequence);
        RedisValue[] fields =
        [
            "sequence", sequence.Result,
            "employerId", request.EmployerId,
            AnnouncementLifecycle.Status, AnnouncementStatus.Scheduled,
            "sendAt", sendAt.ToUnixMs(),
            "createdAt", now.ToUnixMs(),
            "message", request.Message ?? "",
            "template", request.Template is null ? "" : JsonSerializer.Serialize(request.Template),
            "audience", request.EmployeeIds is not null ? "list" : request.Audience is not null ? "filter" : "all",
            "filter", request.Audience is null ? "" : JsonSerializer.Serialize(request.Audience),
            "targeted", request.EmployeeIds?.Count ?? 0,
            "urgent", request.Urgent ? 1 : 0,
            "sender", senderId,
            .. AcknowledgementFields(request.Acknowledgement),
            "series", request.SeriesId ?? "",
            "sendAtLocal", request.SendAtLocal is { } local ? WallClock.Format(local) : "",
        ];
        var existing = await db.ScriptEvaluateAsync(LuaScripts.CreateAnnouncement,
            [RedisKeys.Announcement(id), RedisKeys.Targets(id)],
            [requestHash, fields.Length / 2, .. fields, .. (request.EmployeeIds ?? []).Select(e => (RedisValue)e)]);

        if (existing.IsNull)
        {
            await IndexAndScheduleAsync(request.EmployerId, id, sequence.Result, sendAt, senderId);
            return (CreateOutcome.Created, id);
        }
        var stored = (RedisValue[])existing!;
        // The first request may have died between storing and scheduling; finishing its work here is harmless.
        // Once it is past scheduled it was queued, and this request's mark is all that is left to clear.
        // It stays in the queue of the sender it was stored with, even when the employer's sender changed since.
        var storedSender = SenderOf(stored[4]);
        if (stored[1] == AnnouncementStatus.Scheduled)
            await IndexAndScheduleAsync(request.EmployerId, id, (long)stored[2], Clock.FromUnixMs((long)stored[3]), storedSender);
        if (stored[1] != AnnouncementStatus.Scheduled || storedSender != senderId) await queues.Of(senderId).ForgetCreationAsync(id, now);
        return (stored[0] == requestHash ? CreateOutcome.Replayed : CreateOutcome.KeyReusedWithOtherRequest, id);
    }

    /// <summary>
    /// Finishes creations that were interrupted between storing and queueing: those marked before
    /// <paramref name="olderThan"/> ago (younger ones may still be under way). Every step is idempotent, so every
    /// replica may run this at once. Returns how many announcements it queued.
    /// </summary>
    /// <param name="senderId">Whose creation marks to look at (marks live in the sender's queue slot).</param>
    public async Task<int> RepairCreationsAsync(string senderId, TimeSpan olderThan, int max = 100)
    {
        var cutoff = time.GetUtcNow() - olderThan;
        var queued = 0;
        var queue = queues.Of(senderId);
        foreach (var id in await queue.UnfinishedCreationsAsync(cutoff, max))
        {
            var stored = await db.HashGetAsync(RedisKeys.Announcement(id), [AnnouncementLifecycle.Status, "employerId", "sequence", "sendAt", "sender"]);
            var storedSender = SenderOf(stored[4]);
            if (stored[0] == AnnouncementStatus.Scheduled)
            {
                await IndexAndScheduleAsync((string)stored[1]!, id, (long)stored[2], Clock.FromUnixMs((long)stored[3]), storedSender);
                queued++;
            }
            // Never stored (its request failed before the announcement was written) or no longer scheduled (it was
            // queued and claimed, or cancelled): nothing to finish. A mark under another sender than the stored one
            // (a replay after the employer changed sender) is not cleared by scheduling either.
            if (stored[0] != AnnouncementStatus.Scheduled || storedSender != senderId) await queue.ForgetCreationAsync(id, cutoff);
        }
        return queued;
    }

    /// <summary>The queue an announcement waits in: its recorded sender's (announcements stored before senders were recorded: the default).</summary>
    public AnnouncementQueue QueueOf(Announcement announcement) => queues.Of(announcement.SenderId ?? AnnouncementQueues.DefaultSender);

    private static string SenderOf(RedisValue stored) => stored.IsNullOrEmpty ? AnnouncementQueues.DefaultSender : (string)stored!;

    private async Task IndexAndScheduleAsync(string employerId, string id, long sequence, DateTimeOffset sendAt, string senderId)
    {
        // Listed before queued: an announcement that is sent is always one its employer can find.
        await db.SortedSetAddAsync(RedisKeys.Announcements(employerId), IndexMember(sequence, id), 0);
        // Flagged after it is listed and before it is queued: an endpoint registered meanwhile either is seen here or
        // finds it in the list, and its first send already has its event.
        await endpoints.FlagIfListeningAsync(employerId, id);
        await queues.Of(senderId).ScheduleAsync(id, sendAt);
    }

    public async Task<Announcement?> GetAsync(string employerId, string id)
    {
        var announcement = await GetAsync(id);
        return announcement?.EmployerId == employerId ? announcement : null;
    }

    public async Task<Announcement?> GetAsync(string id)
    {
        return ToAnnouncement(id, await db.HashGetAllAsync(RedisKeys.Announcement(id)));
    }

    /// <summary>A page of an employer's announcements, newest first.</summary>
    public async Task<(IReadOnlyList<Announcement> Items, string? Next)> ListAsync(string employerId, string? status, string? cursor, int limit)
    {
        var items = new List<Announcement>(limit);
        var after = cursor;
        // With a status filter a page may need several reads of the index; each read is one pipelined batch.
        while (items.Count < limit)
        {
            var members = await db.SortedSetRangeByValueAsync(RedisKeys.Announcements(employerId),
                min: default, max: after is null ? default : after, exclude: after is null ? Exclude.None : Exclude.Stop,
                skip: 0, take: limit, order: Order.Descending);
            if (members.Length == 0) return (items, null);
            var batch = db.CreateBatch();
            var reads = members.Select(m => batch.HashGetAllAsync(RedisKeys.Announcement(IdOf(m!)))).ToArray();
            batch.Execute();
            var found = await Task.WhenAll(reads);
            for (var i = 0; i < members.Length && items.Count < limit; i++)
            {
                after = members[i];
                var announcement = ToAnnouncement(IdOf(members[i]!), found[i]);
                if (announcement?.EmployerId == employerId && (status is null || announcement.Status == status)) items.Add(announcement);
            }
            await ForgetExpiredAsync(employerId, members, found);
        }
        return (items, after);
    }

    /// <summary>
    /// The index outlives the announcements it lists (they expire Announcements:Retention after they end, and a sorted set
    /// has no per-member TTL): members whose hash is gone leave it when a page meets them. The index is written only after
    /// the hash is stored, so a member without one is always an announcement that expired.
    /// </summary>
    private async Task ForgetExpiredAsync(string employerId, RedisValue[] members, HashEntry[][] found)
    {
        RedisValue[] gone = [.. members.Where((_, i) => found[i].Length == 0)];
        if (gone.Length > 0) await db.SortedSetRemoveAsync(RedisKeys.Announcements(employerId), gone);
    }

    /// <summary>Cancels a scheduled announcement; once dispatching has begun it is too late.</summary>
    public async Task<CancelOutcome> CancelAsync(string employerId, string id)
    {
        if (await GetAsync(employerId, id) is not { } announcement) return CancelOutcome.NotFound;
        if (!await Lifecycle.CancelAsync(id)) return CancelOutcome.TooLate;
        await QueueOf(announcement).RemoveAsync(id);
        return CancelOutcome.Cancelled;
    }

    /// <summary>An operator's "resume now" for a paused announcement; false when it is not paused.</summary>
    public async Task<bool> ResumeNowAsync(string employerId, string id)
    {
        if (await GetAsync(employerId, id) is not { Status: AnnouncementStatus.Paused } announcement) return false;
        // Dispatchers end the pause first (of this sender, for this employer only): a dispatcher woken by the reschedule
        // while still paused would pause it again.
        await db.PublishAsync(RedisKeys.WakeUp, AnnouncementQueue.ResumeMessage(QueueOf(announcement).SenderId, employerId));
        // It waits in the due queue until its pause ends: due now instead.
        return await QueueOf(announcement).RescheduleAsync(id, time.GetUtcNow());
    }

    public async Task<DeliveryCounts> CountsAsync(string id)
    {
        var v = await db.HashGetAsync(RedisKeys.Announcement(id), CountFields);
        return ToCounts(v);
    }

    private static readonly RedisValue[] CountFields = [.. DeliveryStates.CountFields.Select(f => (RedisValue)f)];

    private static DeliveryCounts ToCounts(RedisValue[] v) =>
        new((long)v[0], (long)v[1], (long)v[2], (long)v[3], (long)v[4], (long)v[5], (long)v[6]);

    private static Announcement? ToAnnouncement(string id, HashEntry[] entries)
    {
        if (entries.Length == 0) return null;
        var f = entries.ToDictionary(e => (string)e.Name!, e => e.Value);
        RedisValue Get(string name) => f.TryGetValue(name, out var v) ? v : RedisValue.Null;
        var template = Get("template");
        var filter = Get("filter");
        return new Announcement(
            id,
            Get("employerId")!,
            Get(AnnouncementLifecycle.Status)!,
            Clock.FromUnixMs((long)Get("sendAt")),
            Clock.FromUnixMs((long)Get("createdAt")),
            Get("message").IsNullOrEmpty ? null : (string?)Get("message"),
            template.IsNullOrEmpty ? null : JsonSerializer.Deserialize<TemplateContent>((string)template!),
            Get("audience") == "all",
            ToCounts([.. CountFields.Select(c => Get(c!))]),
            Get("startedAt").IsNullOrEmpty ? null : Clock.FromUnixMs((long)Get("startedAt")),
            Get(AnnouncementLifecycle.Reason).IsNullOrEmpty ? null : (string?)Get(AnnouncementLifecycle.Reason),
            Get(AnnouncementLifecycle.ResumesAt).IsNullOrEmpty ? null : Clock.FromUnixMs((long)Get(AnnouncementLifecycle.ResumesAt)),
            Get("urgent") == 1,
            Get("sender").IsNullOrEmpty ? null : (string?)Get("sender"),
            filter.IsNullOrEmpty ? null : JsonSerializer.Deserialize<AudienceFilter>((string)filter!),
            Get("ackRequired") == 1 ? new AcknowledgementPolicy(
                Get("remindAfter").IsNullOrEmpty ? null : TimeSpan.FromMilliseconds((long)Get("remindAfter")), (int)Get("maxReminders")) : null,
            Get("ackRequired") == 1 ? new AcknowledgementProgress((long)Get("acknowledged"), (long)Get("reminded"), (int)Get("reminder"),
                Get("reminderAt").IsNullOrEmpty ? null : Clock.FromUnixMs((long)Get("reminderAt"))) : null,
            Get("series").IsNullOrEmpty ? null : (string?)Get("series"),
            WallClock.Parse(Get("sendAtLocal")),
            Get(AnnouncementLifecycle.RetriedAt).IsNullOrEmpty ? null : Clock.FromUnixMs((long)Get(AnnouncementLifecycle.RetriedAt)));
    }

    /// <summary>Stored only when asked for, so an announcement without acknowledgement keeps the fields it always had.</summary>
    private static RedisValue[] AcknowledgementFields(AcknowledgementPolicy? policy) => policy is null ? [] :
        ["ackRequired", 1, "remindAfter", policy.RemindAfter is { } after ? (long)after.TotalMilliseconds : "", "maxReminders", policy.MaxReminders];

    private static string IndexMember(long sequence, string id) =>
        sequence.ToString("D12", CultureInfo.InvariantCulture) + ":" + id;

    internal static string IdOf(string member) => member[(member.IndexOf(':') + 1)..];

    /// <summary>The id of an employer's announcement created with this idempotency key.</summary>
    public static string DeriveId(string employerId, string idempotencyKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{employerId}\n{idempotencyKey}")))[..32];

    private static string Hash(NewAnnouncement r) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(r)));
}
