using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Events;

/// <summary>An employer's webhook endpoint. <paramref name="Events"/> empty = every event type; secrets as stored (protected).</summary>
public sealed record EventEndpoint(string Url, IReadOnlyList<string> Events, string Secret)
{
    public bool Wants(string type) => Events.Count == 0 || Events.Contains(type);
}

/// <summary>
/// Stores endpoints and keeps the announcements' <c>events</c> flag in step with them: the state scripts write an
/// announcement's events only while its employer has an endpoint (outbox-events.lua), so an employer without one pays a
/// single HGET per script call.
/// </summary>
public sealed class EndpointStore(IDatabase db, TimeProvider time)
{
    /// <summary>Every event type, in the order the API documents them.</summary>
    public static readonly IReadOnlyList<string> EventTypes =
    [
        "delivery.sent", "delivery.delivered", "delivery.read", "delivery.failed", "delivery.unknown", "delivery.acknowledged",
        "announcement.completed", "announcement.paused", "announcement.expired",
    ];

    public async Task<EventEndpoint?> GetAsync(string employerId)
    {
        var values = await db.HashGetAsync(EventKeys.Endpoint(employerId), ["url", "events", "secret"]);
        if (values[0].IsNullOrEmpty) return null;
        var events = ((string?)values[1] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        return new EventEndpoint((string)values[0]!, events, (string)values[2]!);
    }

    /// <summary>Writes the endpoint, then flags the employer's announcements (in that order: an announcement created
    /// meanwhile either sees the endpoint when it is created or is in the index when the walk reads it).</summary>
    public async Task SaveAsync(string employerId, EventEndpoint endpoint)
    {
        HashEntry[] fields =
        [
            new("url", endpoint.Url), new("events", string.Join(',', endpoint.Events)), new("secret", endpoint.Secret),
        ];
        await db.HashSetAsync(EventKeys.Endpoint(employerId), fields);
        await db.SetAddAsync(EventKeys.Employers, employerId);
        await foreach (var ids in AnnouncementIdsAsync(employerId)) await FlagAsync(employerId, ids, on: true);
    }

    /// <summary>Removes the endpoint, the events waiting for it (nobody will receive them) and the flags of the
    /// employer's announcements; the attempts log stays.</summary>
    public async Task<bool> DeleteAsync(string employerId)
    {
        if (!await db.KeyDeleteAsync(EventKeys.Endpoint(employerId))) return false;
        await db.KeyDeleteAsync([EventKeys.Due(employerId), EventKeys.Events(employerId), EventKeys.Failed(employerId)]);
        await db.SetRemoveAsync(EventKeys.Employers, employerId);
        await foreach (var ids in AnnouncementIdsAsync(employerId)) await FlagAsync(employerId, ids, on: false);
        return true;
    }

    /// <summary>After an announcement is created: flags it when its employer has an endpoint.</summary>
    public async Task FlagIfListeningAsync(string employerId, string announcementId)
    {
        if (await db.KeyExistsAsync(EventKeys.Endpoint(employerId))) await FlagAsync(employerId, [announcementId], on: true);
    }

    /// <summary>
    /// The outboxes to read: the employer's announcements flagged since <paramref name="since"/>. Older ones are retired —
    /// unflagged, their outbox deleted and dropped from the index — so each poll reads only announcements that can still
    /// change (statuses come for up to 7 days) and nothing keeps writing into an outbox nobody reads.
    /// </summary>
    public async Task<string[]> OutboxesAsync(string employerId, DateTimeOffset since)
    {
        var key = EventKeys.Outboxes(employerId);
        var retired = await db.SortedSetRangeByScoreAsync(key, double.NegativeInfinity, since.ToUnixMs(), Exclude.Stop);
        if (retired.Length > 0)
        {
            var batch = db.CreateBatch();
            var writes = retired.SelectMany(id => new Task[]
            {
                batch.HashDeleteAsync(RedisKeys.Announcement((string)id!), "events"),
                batch.KeyDeleteAsync(EventKeys.Outbox((string)id!)),
                batch.SortedSetRemoveAsync(key, id),
            }).ToArray();
            batch.Execute();
            await Task.WhenAll(writes);
        }
        return [.. (await db.SortedSetRangeByRankAsync(key)).Select(v => (string)v!)];
    }

    /// <summary>Forgets an outbox that is gone (its announcement expired).</summary>
    public Task ForgetOutboxAsync(string employerId, string announcementId) =>
        db.SortedSetRemoveAsync(EventKeys.Outboxes(employerId), announcementId);

    public async Task<string[]> EmployersAsync() => [.. (await db.SetMembersAsync(EventKeys.Employers)).Select(v => (string)v!)];

    private async Task FlagAsync(string employerId, IReadOnlyList<string> announcementIds, bool on)
    {
        var batch = db.CreateBatch();
        var exists = announcementIds.Select(id => batch.KeyExistsAsync(RedisKeys.Announcement(id))).ToArray();
        batch.Execute();
        await Task.WhenAll(exists);
        var now = time.GetUtcNow().ToUnixMs();
        batch = db.CreateBatch();
        var writes = new List<Task>();
        for (var i = 0; i < announcementIds.Count; i++)
        {
            // HSET on a deleted announcement would bring back a hash without its fields.
            if (!exists[i].Result) continue;
            var id = announcementIds[i];
            if (on)
            {
                // The group exists before the first event, so no event is written before the worker can read it.
                writes.Add(CreateGroupAsync(batch, id));
                writes.Add(batch.HashSetAsync(RedisKeys.Announcement(id), "events", 1));
                writes.Add(batch.SortedSetAddAsync(EventKeys.Outboxes(employerId), id, now, SortedSetWhen.NotExists));
            }
            else writes.Add(batch.HashDeleteAsync(RedisKeys.Announcement(id), "events"));
        }
        batch.Execute();
        await Task.WhenAll(writes);
    }

    private static async Task CreateGroupAsync(IDatabaseAsync db, string announcementId)
    {
        try { await db.StreamCreateConsumerGroupAsync(EventKeys.Outbox(announcementId), EventKeys.Group, "0-0", createStream: true); }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal)) { }
    }

    private async IAsyncEnumerable<string[]> AnnouncementIdsAsync(string employerId)
    {
        const int page = 500;
        for (long skip = 0; ; skip += page)
        {
            var members = await db.SortedSetRangeByRankAsync(RedisKeys.Announcements(employerId), skip, skip + page - 1);
            if (members.Length == 0) yield break;
            yield return [.. members.Select(m => Announcements.AnnouncementStore.IdOf(m!))];
        }
    }
}
