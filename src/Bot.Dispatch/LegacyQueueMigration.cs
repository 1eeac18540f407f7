using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Redis;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// Moves what an earlier version left in the one global queue (<see cref="RedisKeys.Legacy"/>) into the senders'
/// queues, once per dispatcher start: an upgrade needs no empty queue. Each entry is added to its sender's key (NX)
/// before it is removed from the old one, so a crash half-way loses nothing and the next start finishes the move;
/// replicas starting together may both move an entry, which only adds it where it already is. An in-flight entry
/// becomes due now: its old dispatcher is gone, and a pass that is not is harmless beside a new one (SET NX per delivery).
/// </summary>
public sealed partial class LegacyQueueMigration(
    IDatabase db,
    AnnouncementStore announcements,
    SenderDirectory senders,
    TimeProvider time,
    ILogger<LegacyQueueMigration> logger)
{
    private const int Chunk = 200;

    /// <summary>Returns how many entries it moved (0, after one EXISTS, once the old keys are gone).</summary>
    public async Task<long> RunAsync()
    {
        if (await db.KeyExistsAsync([RedisKeys.Legacy.Due, RedisKeys.Legacy.InFlight, RedisKeys.Legacy.PendingCreations, RedisKeys.Legacy.Resends]) == 0)
            return 0;
        var now = time.GetUtcNow().ToUnixMs();
        var moved = await MoveAsync(RedisKeys.Legacy.Due, RedisKeys.Due, e => e.Element, e => e.Score);
        moved += await MoveAsync(RedisKeys.Legacy.InFlight, RedisKeys.Due, e => e.Element, _ => now);
        moved += await MoveAsync(RedisKeys.Legacy.PendingCreations, RedisKeys.PendingCreations, e => e.Element, e => e.Score);
        moved += await MoveAsync(RedisKeys.Legacy.Resends, RedisKeys.Resends,
            e => DeliveryRef.ParseOrNull(e.Element)?.AnnouncementId, e => e.Score);
        // Leases of the old queue mean nothing in the new one.
        await db.KeyDeleteAsync(RedisKeys.Legacy.LeaseOwners);
        if (moved > 0) LogMigrated(moved);
        return moved;
    }

    private async Task<long> MoveAsync(RedisKey from, Func<string, RedisKey> to, Func<SortedSetEntry, string?> announcementOf, Func<SortedSetEntry, double> score)
    {
        long moved = 0;
        while (true)
        {
            var entries = await db.SortedSetRangeByRankWithScoresAsync(from, 0, Chunk - 1);
            if (entries.Length == 0) return moved;
            foreach (var entry in entries)
            {
                var sender = announcementOf(entry) is { } id ? await SenderOfAsync(id) : AnnouncementQueues.DefaultSender;
                await db.SortedSetAddAsync(to(sender), entry.Element, score(entry), SortedSetWhen.NotExists);
                await db.SortedSetRemoveAsync(from, entry.Element);
                moved++;
            }
        }
    }

    /// <summary>
    /// The queue an announcement belongs in: the one the store looks in (<see cref="AnnouncementStore.QueueOf"/>), or its
    /// employer's sender's when that sender is no longer configured (nobody would dispatch it).
    /// </summary>
    private async Task<string> SenderOfAsync(string announcementId)
    {
        if (await announcements.GetAsync(announcementId) is not { } announcement) return AnnouncementQueues.DefaultSender;
        var queue = announcements.QueueOf(announcement).SenderId;
        return senders.All.Any(s => s.Id == queue) ? queue : senders.ForEmployer(announcement.EmployerId).Id;
    }

    [LoggerMessage(LogLevel.Warning, "Moved {Count} entries of the old global announcement queue into the senders' queues")]
    private partial void LogMigrated(long count);
}
