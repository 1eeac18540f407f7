using System.Globalization;
using NodaTime;

namespace Bot.Core.Announcements;

/// <summary>
/// Wall-clock times in IANA zones. NodaTime's tz database is the one Ical.Net evaluates recurrences with, so an
/// occurrence and a quiet-hours end agree on every zone's rules. A local time in a spring-forward gap is moved forward
/// by the gap and one in a fall-back overlap is taken at its earlier instant (NodaTime's lenient resolver).
/// </summary>
public static class WallClock
{
    /// <summary>The largest UTC offset in use (Pacific/Kiritimati): nowhere does a wall-clock time come earlier.</summary>
    public static readonly TimeSpan LatestOffset = TimeSpan.FromHours(14);

    /// <summary>The smallest UTC offset in use (Etc/GMT+12): nowhere does a wall-clock time come later.</summary>
    public static readonly TimeSpan EarliestOffset = TimeSpan.FromHours(-12);

    /// <summary>The format of <c>sendAtLocal</c> as stored and shown.</summary>
    public const string LocalFormat = "yyyy-MM-dd'T'HH:mm:ss";

    /// <summary>The zone named, or null for a name the tz database does not know.</summary>
    public static DateTimeZone? Zone(string? id) => string.IsNullOrEmpty(id) ? null : DateTimeZoneProviders.Tzdb.GetZoneOrNull(id);

    /// <summary>When <paramref name="local"/> (a wall-clock time, <see cref="DateTimeKind.Unspecified"/>) comes in <paramref name="zone"/>.</summary>
    public static DateTimeOffset ToInstant(DateTime local, DateTimeZone zone) =>
        LocalDateTime.FromDateTime(local).InZoneLeniently(zone).ToDateTimeOffset().ToUniversalTime();

    /// <summary>The wall-clock time in <paramref name="zone"/> at <paramref name="instant"/>.</summary>
    public static DateTime ToLocal(DateTimeOffset instant, DateTimeZone zone) =>
        Instant.FromDateTimeOffset(instant).InZone(zone).LocalDateTime.ToDateTimeUnspecified();

    /// <summary>The first instant any zone reaches <paramref name="local"/>: a local-time announcement is due then.</summary>
    public static DateTimeOffset EarliestInstant(DateTime local) => new DateTimeOffset(local, LatestOffset).ToUniversalTime();

    /// <summary>The last instant a zone reaches <paramref name="local"/>: after it, it has passed everywhere.</summary>
    public static DateTimeOffset LatestInstant(DateTime local) => new DateTimeOffset(local, EarliestOffset).ToUniversalTime();

    public static string Format(DateTime local) => local.ToString(LocalFormat, CultureInfo.InvariantCulture);

    public static DateTime? Parse(string? text) =>
        DateTime.TryParseExact(text, LocalFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local) ? local : null;
}

/// <summary>
/// <c>Employers:&lt;id&gt;:QuietHours</c>: <c>HH:mm-HH:mm</c> in each employee's zone, the end excluded; a start after the
/// end spans midnight ("21:00-07:00").
/// </summary>
public sealed record QuietHours(LocalTime Start, LocalTime End)
{
    public static QuietHours? Parse(string? text)
    {
        var parts = text?.Split('-');
        if (parts is not [var start, var end] || !TryTime(start, out var from) || !TryTime(end, out var to) || from == to) return null;
        return new QuietHours(from, to);
    }

    /// <summary>When a delivery that would go at <paramref name="at"/> may go in <paramref name="zone"/>: the end of the quiet
    /// hours when <paramref name="at"/> is inside them, else <paramref name="at"/>.</summary>
    public DateTimeOffset Release(DateTimeOffset at, DateTimeZone zone)
    {
        var local = Instant.FromDateTimeOffset(at).InZone(zone).LocalDateTime;
        var time = local.TimeOfDay;
        var inside = Start < End ? time >= Start && time < End : time >= Start || time < End;
        if (!inside) return at;
        // The end on the same day when it is still ahead, else the next day's.
        var endDate = time < End ? local.Date : local.Date.PlusDays(1);
        return endDate.At(End).InZoneLeniently(zone).ToDateTimeOffset().ToUniversalTime();
    }

    public override string ToString() => $"{Start:HH:mm}-{End:HH:mm}";

    private static bool TryTime(string text, out LocalTime time)
    {
        time = default;
        if (!TimeOnly.TryParseExact(text.Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) return false;
        time = new LocalTime(parsed.Hour, parsed.Minute);
        return true;
    }
}
