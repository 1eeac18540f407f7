using System.Collections.Concurrent;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Announcements;

/// <summary>What a lease change found: done, the announcement no longer in flight, or the lease another dispatcher's.</summary>
public enum LeaseUpdate { OwnedByOther = -1, NotInFlight = 0, Done = 1 }

/// <summary>The senders' queues (<see cref="Of"/>); one instance per process.</summary>
public sealed class AnnouncementQueues(IDatabase db, TimeProvider time)
{
    /// <summary>The sender of employers that name none (<c>WhatsApp:*</c>); Bot.Core does not see the sender directory.</summary>
    public const string DefaultSender = "default";

    private readonly ConcurrentDictionary<string, AnnouncementQueue> queues = new(StringComparer.Ordinal);

    /// <summary>The queue of announcements sent from <paramref name="senderId"/>.</summary>
    public AnnouncementQueue Of(string senderId) => queues.GetOrAdd(senderId, id => new AnnouncementQueue(db, time, id));
}

/// <summary>
/// One sender's schedule: announcements wait in a ZSET scored by due time; a claimed one moves to the in-flight ZSET
/// scored by its lease expiry, so a replica can take over an announcement whose dispatcher died. Every key carries
/// the sender's hash tag: a sender's queue is one slot, and senders spread over a cluster's shards.
/// </summary>
public sealed class AnnouncementQueue(IDatabase db, TimeProvider time, string senderId)
{
    /// <summary>
    /// Published on the wake-up channel when an employer resumes a paused announcement: dispatchers end the pause of its
    /// sender for that employer (<c>:resume:{senderId}:{employerId}</c>). Any other message is a sender id (which never
    /// contains ':').
    /// </summary>
    public static string ResumeMessage(string senderId, string employerId) => $"{ResumePrefix}{senderId}:{employerId}";

    /// <summary>The sender and employer of a <see cref="ResumeMessage"/>; false for any other message.</summary>
    public static bool IsResume(string message, out string senderId, out string employerId)
    {
        (senderId, employerId) = ("", "");
        if (!message.StartsWith(ResumePrefix, StringComparison.Ordinal)) return false;
        var rest = message.AsSpan(ResumePrefix.Length);
        var colon = rest.IndexOf(':');
        if (colon <= 0) return false;
        (senderId, employerId) = (rest[..colon].ToString(), rest[(colon + 1)..].ToString());
        return true;
    }

    private const string ResumePrefix = ":resume:";

    private readonly RedisKey due = RedisKeys.Due(senderId);
    private readonly RedisKey inFlight = RedisKeys.InFlight(senderId);
    private readonly RedisKey leaseOwners = RedisKeys.LeaseOwners(senderId);
    private readonly RedisKey pendingCreations = RedisKeys.PendingCreations(senderId);
    private readonly RedisKey resends = RedisKeys.Resends(senderId);

    public string SenderId => senderId;

    /// <summary>Queues an announcement (never moving one already queued) and clears its pending-creation mark.</summary>
    public async Task ScheduleAsync(string id, DateTimeOffset dueAt)
    {
        await db.ScriptEvaluateAsync(LuaScripts.ScheduleAnnouncement, [due, pendingCreations], [id, dueAt.ToUnixMs()]);
        // Wake dispatchers now rather than at their next poll; a lost message only costs one poll interval.
        if (dueAt <= time.GetUtcNow().AddSeconds(1)) await db.PublishAsync(RedisKeys.WakeUp, senderId);
    }

    /// <summary>Marks an announcement as being created; <see cref="ScheduleAsync"/> clears the mark.</summary>
    public Task MarkCreatingAsync(string id) =>
        db.SortedSetAddAsync(pendingCreations, id, time.GetUtcNow().ToUnixMs());

    /// <summary>Up to <paramref name="max"/> announcements whose creation began before <paramref name="before"/> and never got queued.</summary>
    public async Task<string[]> UnfinishedCreationsAsync(DateTimeOffset before, int max) =>
        [.. (await db.SortedSetRangeByScoreAsync(pendingCreations, stop: before.ToUnixMs(), take: max)).Select(v => (string)v!)];

    /// <summary>Drops a pending-creation mark made at or before <paramref name="markedBy"/> (a newer one is a replay under way).</summary>
    public Task ForgetCreationAsync(string id, DateTimeOffset markedBy) =>
        db.ScriptEvaluateAsync(LuaScripts.ForgetCreation, [pendingCreations], [id, markedBy.ToUnixMs()]);

    /// <summary>
    /// Atomically claims up to <paramref name="max"/> announcements for <paramref name="owner"/>: in-flight ones whose
    /// lease expired at or before <paramref name="takeOverBefore"/>, then due ones.
    /// </summary>
    public async Task<string[]> ClaimAsync(string owner, TimeSpan lease, DateTimeOffset takeOverBefore, int max)
    {
        var now = time.GetUtcNow();
        var claimed = await db.ScriptEvaluateAsync(LuaScripts.ClaimDue, [due, inFlight, leaseOwners],
            [now.ToUnixMs(), (now + lease).ToUnixMs(), takeOverBefore.ToUnixMs(), max, owner]);
        return (string[])claimed!;
    }

    /// <summary>Extends the owner's lease (on a timer, independent of how fast sending goes); never re-adds a finished one.</summary>
    public Task<LeaseUpdate> RenewAsync(string id, string owner, DateTimeOffset until) => UpdateAsync(id, owner, "renew", until);

    /// <summary>Ends the owner's lease now, so another dispatcher can take the announcement over at once.</summary>
    public Task<LeaseUpdate> HandBackAsync(string id, string owner) => RenewAsync(id, owner, DateTimeOffset.UnixEpoch);

    /// <summary>Takes the owner's announcement out of flight and queues it again for <paramref name="dueAt"/>.</summary>
    public Task<LeaseUpdate> RequeueAsync(string id, string owner, DateTimeOffset dueAt) => UpdateAsync(id, owner, "requeue", dueAt);

    /// <summary>Takes the owner's finished announcement out of flight.</summary>
    public Task<LeaseUpdate> RemoveAsync(string id, string owner) => UpdateAsync(id, owner, "remove", DateTimeOffset.UnixEpoch);

    /// <summary>Takes an announcement out of the schedule whoever holds it (it was cancelled, or no longer exists).</summary>
    public async Task RemoveAsync(string id)
    {
        var batch = db.CreateBatch();
        Task[] removals =
        [
            batch.SortedSetRemoveAsync(due, id),
            batch.SortedSetRemoveAsync(inFlight, id),
            batch.HashDeleteAsync(leaseOwners, id),
        ];
        batch.Execute();
        await Task.WhenAll(removals);
    }

    /// <summary>The dispatcher holding the announcement's lease, or null when it is not in flight.</summary>
    public async Task<string?> LeaseOwnerAsync(string id) => await db.HashGetAsync(leaseOwners, id);

    /// <summary>Moves a queued announcement's due time (a paused one resumed by an operator); false when it is not queued.</summary>
    public async Task<bool> RescheduleAsync(string id, DateTimeOffset dueAt)
    {
        if ((long)await db.ScriptEvaluateAsync(LuaScripts.RescheduleAnnouncement, [due], [id, dueAt.ToUnixMs()]) == 0) return false;
        if (dueAt <= time.GetUtcNow().AddSeconds(1)) await db.PublishAsync(RedisKeys.WakeUp, senderId);
        return true;
    }

    private async Task<LeaseUpdate> UpdateAsync(string id, string owner, string operation, DateTimeOffset at) =>
        (LeaseUpdate)(int)await db.ScriptEvaluateAsync(LuaScripts.UpdateLease, [due, inFlight, leaseOwners],
            [id, owner, operation, at.ToUnixMs()]);

    /// <summary>
    /// Queues template re-sends of texts WhatsApp failed with 131047 (outside the 24-hour window); the delivery record
    /// decides whether one is due (<see cref="Deliveries.DeliveryStore.SwapAsync"/>), so queuing one twice is harmless.
    /// </summary>
    public async Task AddResendsAsync(IReadOnlyCollection<Deliveries.DeliveryRef> deliveries)
    {
        if (deliveries.Count == 0) return;
        var now = time.GetUtcNow().ToUnixMs();
        await db.SortedSetAddAsync(resends, [.. deliveries.Select(d => new SortedSetEntry(d.Format(), now))], SortedSetWhen.NotExists);
    }

    /// <summary>Up to <paramref name="max"/> re-sends due now.</summary>
    public async Task<Deliveries.DeliveryRef[]> DueResendsAsync(int max) =>
        [.. (await db.SortedSetRangeByScoreAsync(resends, stop: time.GetUtcNow().ToUnixMs(), take: max))
            .Select(v => Deliveries.DeliveryRef.ParseOrNull(v)).OfType<Deliveries.DeliveryRef>()];

    /// <summary>Looks at a re-send again at <paramref name="at"/> (the messaging limit is full until then).</summary>
    public Task DeferResendAsync(Deliveries.DeliveryRef delivery, DateTimeOffset at) =>
        db.SortedSetAddAsync(resends, delivery.Format(), at.ToUnixMs(), SortedSetWhen.Exists);

    public Task ForgetResendAsync(Deliveries.DeliveryRef delivery) => db.SortedSetRemoveAsync(resends, delivery.Format());

    /// <summary>When the next queued announcement is due, or null when none waits.</summary>
    public async Task<DateTimeOffset?> NextDueAsync()
    {
        var first = await db.SortedSetRangeByRankWithScoresAsync(due, 0, 0);
        return first.Length == 0 ? null : Clock.FromUnixMs((long)first[0].Score);
    }

    /// <summary>When the earliest in-flight lease ends, or null when nothing is in flight.</summary>
    public async Task<DateTimeOffset?> NextLeaseExpiryAsync()
    {
        var first = await db.SortedSetRangeByRankWithScoresAsync(inFlight, 0, 0);
        return first.Length == 0 ? null : Clock.FromUnixMs((long)first[0].Score);
    }
}
