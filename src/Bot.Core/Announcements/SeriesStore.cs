using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Announcements;

public static class SeriesStatus
{
    public const string Active = "active";
    public const string Cancelled = "cancelled";
}

/// <summary>
/// A recurring announcement. Its id is the id of its first occurrence; each occurrence is an announcement of its own,
/// copied from <see cref="Template"/>, with an id derived from the series and the occurrence's time, so creating one
/// twice (two dispatchers, a restart, a replayed request) finds the first instead of making another.
/// </summary>
/// <param name="Template">What every occurrence sends, to whom; its <c>SendAt</c>, <c>SendAtLocal</c> and <c>SeriesId</c> are unset.</param>
/// <param name="LocalTime">Each occurrence goes at its wall-clock time in each employee's zone (<c>sendAtLocal</c>).</param>
public sealed record Series(
    string Id, string EmployerId, string SenderId, NewAnnouncement Template, Recurrence Recurrence, bool LocalTime, string Status,
    DateTimeOffset CreatedAt)
{
    public bool IsActive => Status == SeriesStatus.Active;

    /// <summary>When an occurrence's announcement is due: its instant, or for local time the first instant any zone reaches it.</summary>
    public DateTimeOffset DueOf(Occurrence occurrence) => LocalTime ? WallClock.EarliestInstant(occurrence.Local) : occurrence.Instant;

    /// <summary>The occurrences due at or after <paramref name="due"/>, in order.</summary>
    public IEnumerable<Occurrence> DueFrom(DateTimeOffset due) =>
        // Every zone reaches a wall-clock time at or after its earliest instant, so no occurrence due then is left out.
        Recurrence.After(due.AddTicks(-1)).Where(o => DueOf(o) >= due);

    /// <summary>The announcement of one occurrence.</summary>
    public NewAnnouncement For(Occurrence occurrence) =>
        Template with { SendAt = DueOf(occurrence), SendAtLocal = LocalTime ? occurrence.Local : null, SeriesId = Id };

    /// <summary>The first occurrence is the series itself; each later one's id is derived from the series and its time.</summary>
    public string OccurrenceId(Occurrence occurrence) =>
        occurrence.Instant == Recurrence.First.Instant
            ? Id
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Id}@{occurrence.Instant.ToUnixMs()}")))[..32];
}

/// <summary>
/// Recurring series in Redis: the series hash, its created occurrences, and the active series by when their next
/// occurrence is due (the series scheduler creates occurrences a horizon ahead).
/// </summary>
/// <remarks>
/// Cancelling races with creating an occurrence (a scheduler may be half-way through). An occurrence is recorded only
/// while the series is active (one script in the series' slot), and its creator looks at the status again once the
/// announcement exists: either the creator sees the cancel and cancels its occurrence, or the cancel's sweep, which runs
/// after the status changed, finds the occurrence.
/// </remarks>
public sealed class SeriesStore(IDatabase db, AnnouncementStore announcements, TimeProvider time)
{
    // Creates the series unless one with this id exists (an Idempotency-Key replay); then returns the stored request hash.
    /// <summary>Stores a series and creates its first occurrence. Same request again: the same series (Replayed).</summary>
    public async Task<CreateOutcome> CreateAsync(Series series)
    {
        var requestHash = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new
        {
            series.Template,
            series.Recurrence.Rule,
            series.Recurrence.TimeZone,
            First = WallClock.Format(series.Recurrence.First.Local),
            series.LocalTime,
        })));
        RedisValue[] fields =
        [
            requestHash,
            "employerId", series.EmployerId,
            "sender", series.SenderId,
            "template", JsonSerializer.Serialize(series.Template),
            "rule", series.Recurrence.Rule,
            "timeZone", series.Recurrence.TimeZone,
            "firstLocal", WallClock.Format(series.Recurrence.First.Local),
            "firstAt", series.Recurrence.First.Instant.ToUnixMs(),
            "local", series.LocalTime ? 1 : 0,
            "status", SeriesStatus.Active,
            "createdAt", series.CreatedAt.ToUnixMs(),
        ];
        var stored = await db.ScriptEvaluateAsync(LuaScripts.CreateSeries, [RedisKeys.Series(series.Id)], fields);
        if (!stored.IsNull && (string?)stored != requestHash) return CreateOutcome.KeyReusedWithOtherRequest;
        // Listed before the first occurrence is created, so a process dying in between leaves the scheduler its work.
        var first = series.DueOf(series.Recurrence.First);
        await db.SortedSetAddAsync(RedisKeys.ActiveSeries, series.Id, first.ToUnixMs(), SortedSetWhen.GreaterThan);
        await ExtendAsync(series, first);
        return stored.IsNull ? CreateOutcome.Created : CreateOutcome.Replayed;
    }

    public async Task<Series?> GetAsync(string employerId, string id) =>
        await GetAsync(id) is { } series && series.EmployerId == employerId ? series : null;

    public async Task<Series?> GetAsync(string id)
    {
        var entries = await db.HashGetAllAsync(RedisKeys.Series(id));
        if (entries.Length == 0) return null;
        var f = entries.ToDictionary(e => (string)e.Name!, e => e.Value);
        var first = new Occurrence(WallClock.Parse(f["firstLocal"])!.Value, Clock.FromUnixMs((long)f["firstAt"]));
        return new Series(id, f["employerId"]!, f["sender"]!, JsonSerializer.Deserialize<NewAnnouncement>((string)f["template"]!)!,
            Recurrence.Load(f["rule"]!, f["timeZone"]!, first), f["local"] == 1, f["status"]!, Clock.FromUnixMs((long)f["createdAt"]));
    }

    /// <summary>
    /// Creates the occurrences due up to <paramref name="until"/> (at most <paramref name="max"/>) that are not created
    /// yet, and moves the series' place in the active set to the next one. Safe on every replica at once.
    /// </summary>
    /// <returns>How many occurrences it created or found created.</returns>
    public async Task<int> ExtendAsync(Series series, DateTimeOffset until, int max = 10)
    {
        var cursor = await db.SortedSetScoreAsync(RedisKeys.ActiveSeries, series.Id) is { } score
            ? Clock.FromUnixMs((long)score)
            : series.DueOf(series.Recurrence.First);
        var made = 0;
        foreach (var occurrence in series.DueFrom(cursor))
        {
            var due = series.DueOf(occurrence);
            if (due > until || made == max)
            {
                // GT: a replica that is behind never moves the cursor back (it would only cost a look).
                await db.SortedSetAddAsync(RedisKeys.ActiveSeries, series.Id, due.ToUnixMs(), SortedSetWhen.GreaterThan);
                return made;
            }
            if (!await CreateOccurrenceAsync(series, occurrence)) return made;
            made++;
        }
        // The rule has ended (COUNT, UNTIL): nothing more to create.
        await db.SortedSetRemoveAsync(RedisKeys.ActiveSeries, series.Id);
        return made;
    }

    /// <summary>Up to <paramref name="max"/> active series with an occurrence to create by <paramref name="until"/>.</summary>
    public async Task<string[]> DueAsync(DateTimeOffset until, int max) =>
        [.. (await db.SortedSetRangeByScoreAsync(RedisKeys.ActiveSeries, stop: until.ToUnixMs(), take: max)).Select(v => (string)v!)];

    /// <summary>Drops a series from the active set (it is gone or cancelled).</summary>
    public Task ForgetAsync(string id) => db.SortedSetRemoveAsync(RedisKeys.ActiveSeries, id);

    /// <summary>The created occurrences, in order: announcement id and when it is due.</summary>
    public async Task<(string Id, DateTimeOffset Due)[]> OccurrencesAsync(string id) =>
        [.. (await db.SortedSetRangeByRankWithScoresAsync(RedisKeys.SeriesOccurrences(id))).Select(e => ((string)e.Element!, Clock.FromUnixMs((long)e.Score)))];

    /// <summary>Stops the series: no further occurrence is created, and the created ones not yet started are cancelled.</summary>
    /// <returns>How many created occurrences it cancelled.</returns>
    public async Task<int> CancelAsync(Series series)
    {
        await db.HashSetAsync(RedisKeys.Series(series.Id),
            [new HashEntry("status", SeriesStatus.Cancelled), new HashEntry("cancelledAt", time.GetUtcNow().ToUnixMs())]);
        await ForgetAsync(series.Id);
        // Creates nothing more: kept as long as an ended announcement (its occurrences end now or within their dispatch), then gone.
        await db.KeyExpireAsync(RedisKeys.Series(series.Id), announcements.Lifecycle.Retention);
        await db.KeyExpireAsync(RedisKeys.SeriesOccurrences(series.Id), announcements.Lifecycle.Retention);
        var cancelled = 0;
        foreach (var (id, _) in await OccurrencesAsync(series.Id))
            if (await announcements.CancelAsync(series.EmployerId, id) == CancelOutcome.Cancelled) cancelled++;
        return cancelled;
    }

    private async Task<bool> CreateOccurrenceAsync(Series series, Occurrence occurrence)
    {
        var id = series.OccurrenceId(occurrence);
        var recorded = (long)await db.ScriptEvaluateAsync(LuaScripts.RecordOccurrence,
            [RedisKeys.Series(series.Id), RedisKeys.SeriesOccurrences(series.Id)], [id, series.DueOf(occurrence).ToUnixMs()]);
        if (recorded == 0)
        {
            await ForgetAsync(series.Id);
            return false;
        }
        await announcements.CreateAsync(id, series.For(occurrence), series.SenderId);
        if (await db.HashGetAsync(RedisKeys.Series(series.Id), "status") != SeriesStatus.Active)
        {
            await announcements.CancelAsync(series.EmployerId, id);
            return false;
        }
        return true;
    }
}
