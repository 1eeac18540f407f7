using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;
using Ical.Net.Evaluation;

namespace Bot.Core.Announcements;

/// <summary>One occurrence of a series: its wall-clock time in the series' zone, and the instant that is.</summary>
public readonly record struct Occurrence(DateTime Local, DateTimeOffset Instant);

/// <summary>
/// An RFC 5545 RRULE in an IANA zone, starting at <see cref="First"/>. Ical.Net evaluates it on wall-clock time in the
/// zone, so 09:00 Europe/Berlin stays 09:00 local across daylight saving changes. The first occurrence is always the
/// start (the announcement's <c>sendAt</c>/<c>sendAtLocal</c>), even where the rule would not pick that day.
/// </summary>
public sealed class Recurrence
{
    public const int MaxRuleLength = 500;

    /// <summary>Occurrences closer than this are refused: each one is a message to every employee.</summary>
    public static readonly TimeSpan MinimumGap = TimeSpan.FromHours(1);

    /// <summary>How many steps of the rule may match nothing before it is taken for one that never matches (FEB 30).</summary>
    private static readonly EvaluationOptions Limits = new() { MaxUnmatchedIncrementsLimit = 1000 };

    private Recurrence(string rule, string timeZone, Occurrence first)
    {
        Rule = rule;
        TimeZone = timeZone;
        First = first;
    }

    /// <summary>A recurrence validated when it was created (read back from storage).</summary>
    public static Recurrence Load(string rule, string timeZone, Occurrence first) => new(rule, timeZone, first);

    /// <summary>The rule as given, without a leading <c>RRULE:</c>.</summary>
    public string Rule { get; }

    public string TimeZone { get; }

    public Occurrence First { get; }

    /// <summary>
    /// Parses a rule and zone; the first occurrence is <paramref name="firstLocal"/> in the zone, or (when given)
    /// <paramref name="firstInstant"/>. On failure says which part is wrong, in words for the employer.
    /// </summary>
    public static Recurrence? TryCreate(string? rule, string? timeZone, DateTime firstLocal, DateTimeOffset? firstInstant,
        out string? ruleError, out string? zoneError)
    {
        ruleError = zoneError = null;
        var zone = WallClock.Zone(timeZone);
        if (zone is null) zoneError = "recurrence.timeZone is an IANA time zone, such as Europe/Berlin.";

        var text = rule?.Trim() ?? "";
        if (text.StartsWith("RRULE:", StringComparison.OrdinalIgnoreCase)) text = text[6..];
        var parsed = false;
        if (text.Length is 0 or > MaxRuleLength)
            ruleError = $"recurrence.rule is an RFC 5545 RRULE of at most {MaxRuleLength} characters, such as FREQ=WEEKLY;BYDAY=MO.";
        else
        {
            try
            {
                _ = new Ical.Net.DataTypes.RecurrenceRule(text);
                parsed = true;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                ruleError = $"recurrence.rule is not a valid RFC 5545 RRULE: {ex.Message}";
            }
        }
        if (!parsed || zone is null) return null;

        var first = firstInstant is { } at
            ? new Occurrence(WallClock.ToLocal(at, zone), at.ToUniversalTime())
            : new Occurrence(firstLocal, WallClock.ToInstant(firstLocal, zone));
        var recurrence = new Recurrence(text, timeZone!, first);
        try
        {
            var soon = recurrence.After(DateTimeOffset.MinValue).Take(10).ToList();
            if (soon.Zip(soon.Skip(1)).Any(pair => pair.Second.Instant - pair.First.Instant < MinimumGap))
                ruleError = $"recurrence.rule repeats more often than every {MinimumGap.TotalMinutes:0} minutes.";
        }
        catch (EvaluationLimitExceededException)
        {
            ruleError = "recurrence.rule never matches a date (such as BYMONTH=2;BYMONTHDAY=30).";
        }
        return ruleError is null ? recurrence : null;
    }

    /// <summary>The occurrences strictly after <paramref name="instant"/>, in order (lazily: a rule may never end).</summary>
    /// <exception cref="EvaluationLimitExceededException">The rule stops matching anything.</exception>
    public IEnumerable<Occurrence> After(DateTimeOffset instant)
    {
        if (First.Instant > instant) yield return First;
        // Parsed for each walk: Ical.Net's objects are mutable and tied to the event that holds them.
        var evaluated = new CalendarEvent { DtStart = new CalDateTime(First.Local, TimeZone), RecurrenceRule = new Ical.Net.DataTypes.RecurrenceRule(Rule) };
        var from = instant > First.Instant ? instant : First.Instant;
        foreach (var occurrence in evaluated.GetOccurrences(new CalDateTime(from.UtcDateTime, CalDateTime.UtcTzId), Limits))
        {
            var start = occurrence.Period.StartTime;
            var at = new DateTimeOffset(DateTime.SpecifyKind(start.AsUtc, DateTimeKind.Utc));
            // Ical.Net starts at the second, and repeats the start when the rule picks it too.
            if (at <= from) continue;
            yield return new Occurrence(start.Value, at);
        }
    }
}
