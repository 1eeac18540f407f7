using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Announcements;

/// <summary>
/// The one definition of an announcement's status: the allowed moves, the timestamp field each move sets and the
/// fields it clears, applied by one compare-and-set script (move-announcement.lua). Callers name the move
/// (<see cref="PauseAsync"/>, <see cref="CompleteAsync"/>, <see cref="ExpireAsync"/>, …); no other code writes the
/// status or the fields that go with it. The portal's status list repeats <see cref="AnnouncementStatus.All"/>;
/// AnnouncementLifecycleTests fails when it drifts.
/// </summary>
/// <param name="retention">How long an announcement's keys live once it ended (<c>Announcements:Retention</c>).</param>
public sealed class AnnouncementLifecycle(IDatabase db, TimeProvider time, TimeSpan? retention = null)
{
    /// <summary>How long an announcement's keys live once it ended (<c>Announcements:Retention</c>).</summary>
    public TimeSpan Retention { get; } = retention ?? AnnouncementOptions.DefaultRetention;

    /// <summary>The statuses nothing dispatches again by itself: the move into one starts the countdown of the keys.</summary>
    public static readonly string[] Ended = [AnnouncementStatus.Completed, AnnouncementStatus.Cancelled, AnnouncementStatus.Expired];

    /// <summary>Hash fields that belong to a status: why it stopped, and when it goes on by itself.</summary>
    public const string Reason = "reason";

    public const string ResumesAt = "resumesAt";

    public const string Status = "status";

    /// <summary>When a retry on request last brought it back to dispatching: its pass's age counts from here.</summary>
    public const string RetriedAt = "retriedAt";

    private sealed record Move(string From, string To, string Timestamp, string[] Clears);

    /// <summary>Every allowed move. A pause's reason and resume time belong to the pause: leaving it clears them.</summary>
    private static readonly Move[] Moves =
    [
        new(AnnouncementStatus.Scheduled, AnnouncementStatus.Dispatching, "startedAt", []),
        new(AnnouncementStatus.Scheduled, AnnouncementStatus.Cancelled, "cancelledAt", []),
        new(AnnouncementStatus.Dispatching, AnnouncementStatus.Paused, "pausedAt", []),
        new(AnnouncementStatus.Dispatching, AnnouncementStatus.WaitingForLimit, "waitingSince", []),
        new(AnnouncementStatus.Paused, AnnouncementStatus.Dispatching, "resumedAt", [Reason, ResumesAt]),
        new(AnnouncementStatus.WaitingForLimit, AnnouncementStatus.Dispatching, "resumedAt", [Reason, ResumesAt]),
        new(AnnouncementStatus.Dispatching, AnnouncementStatus.Completed, "completedAt", [Reason, ResumesAt]),
        // Every delivery settled: complete, even when a pass that stalled past its lease said paused or waiting after
        // another pass had taken the announcement on and sent the rest.
        new(AnnouncementStatus.Paused, AnnouncementStatus.Completed, "completedAt", [Reason, ResumesAt]),
        new(AnnouncementStatus.WaitingForLimit, AnnouncementStatus.Completed, "completedAt", [Reason, ResumesAt]),
        new(AnnouncementStatus.Dispatching, AnnouncementStatus.Expired, "expiredAt", [Reason, ResumesAt]),
        new(AnnouncementStatus.Paused, AnnouncementStatus.Expired, "expiredAt", [Reason, ResumesAt]),
        new(AnnouncementStatus.WaitingForLimit, AnnouncementStatus.Expired, "expiredAt", [Reason, ResumesAt]),
        // A retry on request sends the chosen deliveries of a completed or expired announcement once more.
        new(AnnouncementStatus.Completed, AnnouncementStatus.Dispatching, RetriedAt, []),
        new(AnnouncementStatus.Expired, AnnouncementStatus.Dispatching, RetriedAt, []),
    ];

    /// <summary>Whether <paramref name="from"/> may move to <paramref name="to"/>.</summary>
    public static bool CanMove(string from, string to) => Moves.Any(m => m.From == from && m.To == to);

    /// <summary>Scheduled → dispatching; returns the status before (dispatching when another pass started it).</summary>
    public Task<string?> StartAsync(string id) => MoveAsync(id, AnnouncementStatus.Scheduled, AnnouncementStatus.Dispatching);

    /// <summary>Paused or waiting → dispatching; returns the status before.</summary>
    public Task<string?> ResumeAsync(string id, string from) => MoveAsync(id, from, AnnouncementStatus.Dispatching);

    /// <summary>Scheduled → cancelled; true when this call cancelled it.</summary>
    public async Task<bool> CancelAsync(string id) =>
        await MoveAsync(id, AnnouncementStatus.Scheduled, AnnouncementStatus.Cancelled) == AnnouncementStatus.Scheduled;

    /// <summary>Dispatching → paused, with why and until when; true when this call paused it.</summary>
    public async Task<bool> PauseAsync(string id, string reason, DateTimeOffset until) =>
        await MoveAsync(id, AnnouncementStatus.Dispatching, AnnouncementStatus.Paused,
            new HashEntry(Reason, reason), new HashEntry(ResumesAt, until.ToUnixMs())) == AnnouncementStatus.Dispatching;

    /// <summary>Dispatching → waiting_for_limit until <paramref name="until"/>; true when this call set it.</summary>
    public async Task<bool> WaitForLimitAsync(string id, DateTimeOffset until) =>
        await MoveAsync(id, AnnouncementStatus.Dispatching, AnnouncementStatus.WaitingForLimit,
            new HashEntry(Reason, "messaging limit"), new HashEntry(ResumesAt, until.ToUnixMs())) == AnnouncementStatus.Dispatching;

    /// <summary>
    /// Dispatching (or paused or waiting, see <see cref="Moves"/>) → completed, with <paramref name="fields"/> (the
    /// first reminder) in the same step; true when this call completed it. Only for a pass whose every delivery settled.
    /// </summary>
    public async Task<bool> CompleteAsync(string id, params HashEntry[] fields)
    {
        var before = await MoveAsync(id, AnnouncementStatus.Dispatching, AnnouncementStatus.Completed, fields);
        if (before is AnnouncementStatus.Paused or AnnouncementStatus.WaitingForLimit)
            return await MoveAsync(id, before, AnnouncementStatus.Completed, fields) == before;
        return before == AnnouncementStatus.Dispatching;
    }

    /// <summary>Completed → dispatching again, for a retry on request; true when this call moved it.</summary>
    public Task<bool> RetryAsync(string id) => RetryAsync(id, AnnouncementStatus.Completed);

    /// <summary>Completed or expired → dispatching again, for a retry on request; true when this call moved it.</summary>
    public async Task<bool> RetryAsync(string id, string from) =>
        await MoveAsync(id, from, AnnouncementStatus.Dispatching) == from;

    /// <summary>Dispatching, paused or waiting → expired; returns the status before (the move happened when it is <paramref name="from"/>).</summary>
    public Task<string?> ExpireAsync(string id, string from) => MoveAsync(id, from, AnnouncementStatus.Expired);

    private async Task<string?> MoveAsync(string id, string from, string to, params HashEntry[] fields)
    {
        var move = Moves.FirstOrDefault(m => m.From == from && m.To == to)
            ?? throw new InvalidOperationException($"An announcement never moves from {from} to {to}.");
        // Ending starts the countdown of every key of the announcement; coming back from an end stops it.
        long lifetime = Ended.Contains(move.To) ? Math.Max(1, (long)Retention.TotalMilliseconds) : Ended.Contains(move.From) ? -1 : 0;
        RedisValue[] args =
        [
            move.From, move.To, move.Timestamp, time.GetUtcNow().ToUnixMs(), lifetime, move.Clears.Length,
            .. move.Clears.Select(c => (RedisValue)c),
            .. fields.SelectMany(f => new[] { (RedisValue)f.Name, f.Value }),
        ];
        return (string?)await db.ScriptEvaluateAsync(LuaScripts.MoveAnnouncement, RedisKeys.AnnouncementLifetime(id), args);
    }
}
