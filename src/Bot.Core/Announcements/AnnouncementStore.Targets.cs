using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Announcements;

/// <summary>An announcement's target list: fixed once, when sending starts, and read in batches.</summary>
public sealed partial class AnnouncementStore
{
    /// <summary>
    /// Fixes the targets of an announcement sent to all employees or to an audience, once: the first dispatcher to get here
    /// builds the list under a private name and renames it into place with RENAMENX, so a dispatcher that
    /// resumes the announcement sees the same list.
    /// </summary>
    public async Task<long> EnsureTargetsAsync(Announcement announcement, IAsyncEnumerable<string> audience, string owner)
    {
        var targets = RedisKeys.Targets(announcement.Id);
        if (!announcement.TargetsResolvedAtSend) return await db.ListLengthAsync(targets);

        if (!await db.KeyExistsAsync(targets))
        {
            RedisKey draft = $"{targets}:draft:{owner}";
            await db.KeyDeleteAsync(draft);
            await foreach (var chunk in audience.Chunk(1000))
                await db.ListRightPushAsync(draft, [.. chunk.Select(id => (RedisValue)id)]);
            if (await db.KeyExistsAsync(draft) && !await db.KeyRenameAsync(draft, targets, When.NotExists))
                await db.KeyDeleteAsync(draft);
        }
        // Written by whoever gets here, from the list that won: the same value every time.
        var count = await db.ListLengthAsync(targets);
        await db.HashSetAsync(RedisKeys.Announcement(announcement.Id), "targeted", count);
        return count;
    }

    public async Task<string[]> TargetsAsync(string id, long start, long stop) =>
        [.. (await db.ListRangeAsync(RedisKeys.Targets(id), start, stop)).Select(v => (string)v!)];
}
