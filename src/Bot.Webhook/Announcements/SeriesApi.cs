using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bot.Webhook.Announcements;

/// <summary><c>recurrence</c>: an RFC 5545 RRULE (<c>FREQ=WEEKLY;BYDAY=MO</c>) evaluated in an IANA zone.</summary>
public sealed record RecurrenceRequest(string? Rule, string? TimeZone);

/// <summary>The next occurrences a recurrence would have, before creating it (the portal's compose form).</summary>
public sealed record OccurrencePreviewRequest(string? SendAt, string? SendAtLocal, RecurrenceRequest? Recurrence, int? Limit);

/// <summary>
/// One occurrence of a series: <c>id</c> is its announcement's (derived from the series and its time, so known before it is
/// created); <c>status</c> is null until it is created. For local time <c>sendAt</c> is when the first zone reaches
/// <c>sendAtLocal</c>.
/// </summary>
public sealed record OccurrenceResponse(
    string Id, DateTimeOffset SendAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SendAtLocal,
    string? Status);

/// <summary>A series: its rule, zone and status (<c>active</c> or <c>cancelled</c>), with past and next occurrences.</summary>
public sealed record OccurrencesResponse(string SeriesId, string Rule, string TimeZone, string Status, IReadOnlyList<OccurrenceResponse> Occurrences);

/// <summary>An occurrence a recurrence would have (see <see cref="OccurrenceResponse"/>).</summary>
public sealed record PreviewOccurrence(DateTimeOffset SendAt, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SendAtLocal);

public sealed record OccurrencePreviewResponse(IReadOnlyList<PreviewOccurrence> Occurrences);

/// <summary>Recurring announcements and local-time sending: validation, the series' routes, creating and cancelling one.</summary>
public static partial class SeriesApi
{
    public const int DefaultOccurrences = 5;
    public const int MaxOccurrences = 100;

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")]
    private static partial Regex LocalTimeShape();

    public static RouteGroupBuilder MapSeries(this RouteGroupBuilder group)
    {
        group.MapGet("/{id}/occurrences", OccurrencesAsync)
            .WithSummary("List a recurring announcement's occurrences")
            .WithDescription($"`id` is any occurrence of the series (the series' id is its first). The past occurrences (the last {MaxOccurrences}), then the next `limit` (default {DefaultOccurrences}, at most {MaxOccurrences}), each with its announcement id and `sendAt`; `status` is null for one not created yet.");
        group.MapPost("/occurrences/preview", PreviewAsync)
            .WithSummary("Preview a recurrence's occurrences")
            .WithDescription($"`sendAt` or `sendAtLocal` (the first occurrence) and `recurrence` as on create; the first `limit` (default {DefaultOccurrences}) occurrences. Creates nothing.");
        return group;
    }

    /// <summary>
    /// Validates <c>sendAtLocal</c> and <c>recurrence</c> (on top of <c>sendAt</c>, validated before). With local time,
    /// <paramref name="sendAt"/> becomes the first instant any zone reaches it: the announcement is due then.
    /// </summary>
    public static (DateTime? SendAtLocal, Recurrence? Recurrence) Validate(string? sendAtText, string? sendAtLocalText,
        RecurrenceRequest? recurrence, DateTimeOffset now, Dictionary<string, string[]> errors, ref DateTimeOffset? sendAt)
    {
        DateTime? local = null;
        if (sendAtLocalText is not null)
        {
            if (sendAtText is not null)
                errors["sendAtLocal"] = ["Send either sendAt or sendAtLocal, not both."];
            else if (!LocalTimeShape().IsMatch(sendAtLocalText) ||
                     !DateTime.TryParseExact(sendAtLocalText, ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                errors["sendAtLocal"] = ["sendAtLocal is a wall-clock time without an offset, such as 2026-12-24T09:00."];
            else if (WallClock.LatestInstant(parsed) < now - AnnouncementValidation.PastTolerance)
                errors["sendAtLocal"] = ["sendAtLocal has passed in every time zone. Leave it out to send now."];
            else if (WallClock.EarliestInstant(parsed) > now + AnnouncementValidation.MaxAhead)
                errors["sendAtLocal"] = ["sendAtLocal is more than a year ahead."];
            else
            {
                local = parsed;
                sendAt = WallClock.EarliestInstant(parsed);
            }
        }

        if (recurrence is null) return (local, null);
        if (sendAtText is null && sendAtLocalText is null)
            errors["sendAt"] = ["A recurring announcement needs sendAt or sendAtLocal: its first occurrence."];
        // Without a valid start the rule and zone are still checked, from now.
        var series = Recurrence.TryCreate(recurrence.Rule, recurrence.TimeZone, local ?? default, local is null ? sendAt ?? now : null,
            out var ruleError, out var zoneError);
        if (ruleError is not null) errors["recurrence.rule"] = [ruleError];
        if (zoneError is not null) errors["recurrence.timeZone"] = [zoneError];
        return (local, errors.Count == 0 ? series : null);
    }

    /// <summary>Creates a series and its first occurrence; the series' id (and the first occurrence's) follows the
    /// Idempotency-Key like any announcement's.</summary>
    /// <param name="id">The series' id: new, or the one its Idempotency-Key stands for (<paramref name="keyed"/>).</param>
    public static async Task<(CreateOutcome Outcome, string Id)> CreateAsync(NewAnnouncement draft, Recurrence recurrence, string id, bool keyed,
        SeriesStore series, AnnouncementStore announcements, string senderId, DateTimeOffset now)
    {
        // The key was used for a one-off announcement before.
        if (keyed && await announcements.GetAsync(id) is { SeriesId: null }) return (CreateOutcome.KeyReusedWithOtherRequest, id);
        var template = draft with { SendAt = null, SendAtLocal = null };
        var outcome = await series.CreateAsync(new Series(id, draft.EmployerId, senderId, template, recurrence, draft.SendAtLocal is not null,
            SeriesStatus.Active, now));
        return (outcome, id);
    }

    private static async Task<Results<Ok<OccurrencesResponse>, NotFound, ValidationProblem>> OccurrencesAsync(
        string id, int? limit, Employer employer, AnnouncementStore announcements, SeriesStore store, TimeProvider time)
    {
        if (!Ids.IsValid(id) || await announcements.GetAsync(employer.Id, id) is not { SeriesId: { } seriesId } ||
            await store.GetAsync(employer.Id, seriesId) is not { } series)
            return TypedResults.NotFound();
        if (limit is < 1 or > MaxOccurrences)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"limit is 1 to {MaxOccurrences}."] });

        var now = time.GetUtcNow();
        var created = await store.OccurrencesAsync(series.Id);
        var past = created.Where(o => o.Due < now).TakeLast(MaxOccurrences);
        // A cancelled series has no next occurrences beyond the created ones (now cancelled or under way).
        var next = series.IsActive
            ? series.DueFrom(now).Take(limit ?? DefaultOccurrences).Select(o => (Id: series.OccurrenceId(o), Due: series.DueOf(o)))
            : created.Where(o => o.Due >= now).Take(limit ?? DefaultOccurrences);
        var occurrences = new List<OccurrenceResponse>();
        foreach (var (occurrenceId, due) in past.Concat(next))
        {
            var announcement = await announcements.GetAsync(occurrenceId);
            occurrences.Add(new OccurrenceResponse(occurrenceId, due, LocalOf(series, due, announcement), announcement?.Status));
        }
        return TypedResults.Ok(new OccurrencesResponse(series.Id, series.Recurrence.Rule, series.Recurrence.TimeZone, series.Status, occurrences));
    }

    private static Results<Ok<OccurrencePreviewResponse>, ValidationProblem> PreviewAsync(OccurrencePreviewRequest request, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        var sendAt = AnnouncementValidation.ValidateSendAt(request.SendAt, now, errors);
        if (request.Recurrence is null) errors["recurrence"] = ["recurrence is required: {rule, timeZone}."];
        var (local, recurrence) = Validate(request.SendAt, request.SendAtLocal, request.Recurrence, now, errors, ref sendAt);
        if (request.Limit is < 1 or > MaxOccurrences) errors["limit"] = [$"limit is 1 to {MaxOccurrences}."];
        if (errors.Count > 0 || recurrence is null) return TypedResults.ValidationProblem(errors);

        var isLocal = local is not null;
        var occurrences = recurrence.After(DateTimeOffset.MinValue).Take(request.Limit ?? DefaultOccurrences)
            .Select(o => new PreviewOccurrence(isLocal ? WallClock.EarliestInstant(o.Local) : o.Instant, isLocal ? WallClock.Format(o.Local) : null))
            .ToList();
        return TypedResults.Ok(new OccurrencePreviewResponse(occurrences));
    }

    /// <summary>A local-time occurrence's wall-clock time: the one it was created with, else the one its due time stands for.</summary>
    private static string? LocalOf(Series series, DateTimeOffset due, Announcement? announcement) =>
        !series.LocalTime ? null
        : announcement?.SendAtLocal is { } local ? WallClock.Format(local)
        : WallClock.Format((due + WallClock.LatestOffset).UtcDateTime);
}
