using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Messaging;

/// <summary>
/// WhatsApp's messaging limit of a business portfolio: business-initiated messages (templates, or anything to someone
/// outside the 24-hour window) reach at most <c>limit</c> unique people in any moving window, across all the
/// portfolio's numbers. Shared by every dispatcher through one Redis sorted set per portfolio.
/// </summary>
public sealed class MessagingLimit(IDatabase db)
{
    /// <summary>
    /// Counts <paramref name="recipient"/> as reached now, unless the window is full: then returns when a place frees.
    /// Idempotent per recipient within the window, so a retried or repeated send never takes a second place.
    /// </summary>
    public async Task<DateTimeOffset?> TryReachAsync(string portfolioId, int limit, TimeSpan window, string recipient, DateTimeOffset now)
    {
        var freesAt = (long)await db.ScriptEvaluateAsync(LuaScripts.ReachRecipient, [RedisKeys.Reached(portfolioId)],
            [recipient, now.ToUnixMs(), (long)window.TotalMilliseconds, limit]);
        return freesAt == 0 ? null : Clock.FromUnixMs(freesAt);
    }

    /// <summary>How many unique people the portfolio reached within the window ending now, and which of <paramref name="recipients"/> among them.</summary>
    public async Task<(long Used, bool[] Reached)> UsageAsync(string portfolioId, TimeSpan window, IReadOnlyList<string> recipients, DateTimeOffset now)
    {
        var key = RedisKeys.Reached(portfolioId);
        var since = (now - window).ToUnixMs();
        var used = await db.SortedSetLengthAsync(key, since, double.PositiveInfinity, Exclude.Start);
        var scores = recipients.Count == 0 ? [] : await db.SortedSetScoresAsync(key, [.. recipients.Select(r => (RedisValue)r)]);
        return (used, [.. scores.Select(s => s > since)]);
    }
}
