using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Bot.Core;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Media;
using Bot.Webhook.Templates;

namespace Bot.Webhook.Announcements;

/// <param name="Language">The variant; left out (with a template catalog), each employee gets the one in their language.</param>
/// <param name="Header">The file of a media header: <c>{mediaId}</c> or <c>{link}</c>.</param>
public sealed record TemplateRequest(string? Name, string? Language, List<string>? Parameters, MediaRequest? Header = null);

/// <summary>Employees by attribute: AND across the lists given, OR within one.</summary>
public sealed record AudienceRequest(List<string?>? Departments, List<string?>? Locations, List<string?>? Tags);

/// <summary><c>sendAt</c> is kept as text so an ISO 8601 time without an offset can be refused, not guessed.</summary>
/// <param name="Urgent">Goes before other announcements of the same WhatsApp number.</param>
/// <param name="Acknowledgement">A "Got it" button and reminders (see <see cref="AcknowledgementRequest"/>).</param>
/// <param name="SendAtLocal">Instead of <c>sendAt</c>: a wall-clock time without offset, for each employee in their zone.</param>
/// <param name="Recurrence">Repeat by an RFC 5545 RRULE in an IANA zone; <c>sendAt</c>/<c>sendAtLocal</c> is the first occurrence.</param>
/// <param name="Media">A file sent with <c>message</c> as its caption: <c>{id}</c> from <c>POST /api/media</c> or <c>{link}</c>.</param>
public sealed record CreateAnnouncementRequest(
    string? Message, TemplateRequest? Template, string? SendAt, List<string>? EmployeeIds, AudienceRequest? Audience = null, bool Urgent = false,
    AcknowledgementRequest? Acknowledgement = null, string? SendAtLocal = null, RecurrenceRequest? Recurrence = null, MediaRequest? Media = null);

/// <summary>
/// The original proof of concept's request: send <c>message</c> to everyone now; <c>id</c> is the idempotency key,
/// a JSON number as the PoC's README sends it (<c>{"id": 1, …}</c>) or a string.
/// </summary>
public sealed record SendAnnouncementRequest([property: JsonConverter(typeof(NumberOrStringConverter))] string? Id, string? Message);

/// <summary>Reads a JSON number (as written, so <c>1</c> and <c>1.0</c> stay different keys) or a string as text.</summary>
public sealed class NumberOrStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
        _ => throw new JsonException("Expected a number or a string."),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>A created announcement, with what sending it meets (see <see cref="PreviewResponse"/>) as of its creation.</summary>
public sealed record AnnouncementAccepted(string Id, string Status, DateTimeOffset SendAt,
    long Targeted, long OutsideWindow, long OverMessagingLimit, DateTimeOffset EstimatedCompletion);

/// <param name="Acknowledged">Targets who tapped "Got it"; <c>reminded</c>: reminder messages WhatsApp accepted.</param>
public sealed record CountsResponse(long Targeted, long Sent, long Delivered, long Read, long Failed, long Unknown, long Skipped,
    long Acknowledged = 0, long Reminded = 0);

/// <summary>An audience as stored; a list that does not filter is left out.</summary>
public sealed record AudienceResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Departments,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Locations,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Tags);

/// <summary>
/// An announcement; <c>reason</c> and <c>resumesAt</c> only while it is <c>paused</c> or
/// <c>waiting_for_limit</c>. <c>recipients</c> says who it
/// goes to: <c>all</c> employees, the <c>list</c> of employeeIds, or the <c>audience</c> given (then shown as sent).
/// </summary>
public sealed record AnnouncementResponse(
    string Id, string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ResumesAt,
    DateTimeOffset SendAt, DateTimeOffset CreatedAt, string? Message, TemplateContent? Template,
    string Recipients,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AudienceResponse? Audience,
    bool Urgent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sender,
    CountsResponse Counts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AcknowledgementResponse? Acknowledgement = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SeriesId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SendAtLocal = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] MediaAttachment? Media = null)
{
    public static AnnouncementResponse From(Announcement a) => new(a.Id, a.Status, a.Reason, a.ResumesAt, a.SendAt, a.CreatedAt, a.Message, a.Template,
        a.Audience is not null ? "audience" : a.ToAllEmployees ? "all" : "list",
        a.Audience is { } f ? new AudienceResponse(f.Departments, f.Locations, f.Tags) : null,
        a.Urgent,
        a.SenderId,
        new CountsResponse(a.Counts.Targeted, a.Counts.Sent, a.Counts.Delivered, a.Counts.Read, a.Counts.Failed, a.Counts.Unknown, a.Counts.Skipped,
            a.AcknowledgementProgress?.Acknowledged ?? 0, a.AcknowledgementProgress?.Reminded ?? 0),
        AcknowledgementResponse.From(a),
        a.SeriesId,
        a.SendAtLocal is { } local ? WallClock.Format(local) : null);
}

/// <summary>
/// One delivery; <c>form</c> is <c>text</c> or <c>template</c> (how it went), null while pending; <c>acknowledgedAt</c> when
/// the employee tapped "Got it"; <c>reminders</c> sent to them.
/// </summary>
/// <param name="Attempts">Sends this delivery had or is queued for: 1 for the first, one more per retry on request; 0 while pending.</param>
public sealed record DeliveryResponse(string EmployeeId, string State, string? Form, string? MessageId, string? Error, DateTimeOffset? UpdatedAt,
    DateTimeOffset? AcknowledgedAt = null, int Reminders = 0, int Attempts = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Language = null);

/// <summary>
/// <c>POST /api/announcements/{id}/retry</c>: <c>states</c> is <c>failed</c>, <c>unknown</c> or both (an unknown delivery may
/// have reached the employee, so it is retried only when named); <c>errors</c> keeps only deliveries that failed with these codes.
/// </summary>
public sealed record RetryRequest(List<string?>? States, List<string?>? Errors);

public sealed record RetryResponse(int Retrying);

public static partial class RetryValidation
{
    public const int MaxErrors = 100;

    /// <summary>The states a retry may name: what ended without a message WhatsApp confirmed.</summary>
    public static readonly string[] States = [DeliveryState.Failed.Name(), DeliveryState.Unknown.Name()];

    /// <summary>The choice, or the errors naming the field that is wrong.</summary>
    public static RetryChoice? Validate(RetryRequest? request, Dictionary<string, string[]> errors)
    {
        if (request?.States is not { Count: > 0 } states || states.Any(s => s is null || !States.Contains(s)))
            errors["states"] = [$"states is a non-empty list of {string.Join(", ", States)}."];
        if (request?.Errors is { } codes && (codes.Count is 0 or > MaxErrors || codes.Any(c => c is null || !ErrorCode().IsMatch(c))))
            errors["errors"] = [$"errors is a list of 1-{MaxErrors} error codes as deliveries show them (e.g. \"131026\")."];
        if (errors.Count > 0) return null;
        return new RetryChoice(
            request!.States!.Select(s => DeliveryStates.TryParseName(s, out var state) ? state : throw new UnreachableException()).ToHashSet(),
            request.Errors?.Select(c => c!).ToHashSet(StringComparer.Ordinal));
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex ErrorCode();
}

public static partial class AnnouncementValidation
{
    public const int MaxMessageLength = 4096;
    public const int MaxEmployeeIds = 100_000;
    public const int MaxIdempotencyKeyLength = 255;
    public const int MaxAudienceValues = 100;
    public static readonly TimeSpan PastTolerance = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(366);

    [GeneratedRegex(@"(Z|[+-]\d{2}:?\d{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex EndsWithOffset();

    [GeneratedRegex("^[a-z0-9_]{1,512}$")]
    private static partial Regex TemplateName();

    [GeneratedRegex("^[a-z]{2,3}(_[A-Za-z]{2,4})?$")]
    private static partial Regex LanguageCode();

    /// <summary>Validates a request; on success <paramref name="sendAt"/> is null for "now".</summary>
    public static Dictionary<string, string[]> Validate(CreateAnnouncementRequest request, DateTimeOffset now,
        out DateTimeOffset? sendAt, out TemplateContent? template, out List<string>? employeeIds, out AudienceFilter? audience)
    {
        var errors = new Dictionary<string, string[]>();
        sendAt = null;
        template = null;
        employeeIds = null;
        audience = null;

        switch (request.Message, request.Template)
        {
            case (not null, not null):
                errors["message"] = ["Send either message or template, not both."];
                break;
            case (null, null):
                errors["message"] = ["message is required (or a template)."];
                break;
            case (not null, null):
                if (ValidateMessage(request.Message) is { } messageError) errors["message"] = [messageError];
                break;
            case (null, { } t):
                template = ValidateTemplate(t, errors);
                break;
        }

        sendAt = ValidateSendAt(request.SendAt, now, errors);

        if (request.EmployeeIds is not null)
        {
            if (request.EmployeeIds.Count == 0 || request.EmployeeIds.Count > MaxEmployeeIds)
                errors["employeeIds"] = [$"employeeIds holds 1 to {MaxEmployeeIds} ids; leave it out to reach every employee."];
            // A null entry is named on its own: "not a valid employee id" or "unknown employee" would not say why.
            else if (request.EmployeeIds.IndexOf(null!) is >= 0 and var nullAt)
                errors["employeeIds"] = [$"employeeIds[{nullAt}] is null; every entry is an employee id (a string)."];
            else if (request.EmployeeIds.FindIndex(id => !Ids.IsValid(id)) is >= 0 and var badAt)
                errors["employeeIds"] = [$"employeeIds[{badAt}] '{Truncate(request.EmployeeIds[badAt])}' is not a valid employee id."];
            else employeeIds = [.. request.EmployeeIds.Distinct(StringComparer.Ordinal)];
        }

        if (request.Audience is { } a)
        {
            if (request.EmployeeIds is not null)
                errors["audience"] = ["Send either employeeIds or audience, not both."];
            else if (a is { Departments: null, Locations: null, Tags: null })
                errors["audience"] = ["audience names departments, locations or tags; leave it out to reach every employee."];
            else
            {
                var filter = new AudienceFilter(
                    AudienceValues(a.Departments, "audience.departments", errors),
                    AudienceValues(a.Locations, "audience.locations", errors),
                    AudienceValues(a.Tags, "audience.tags", errors));
                if (!errors.Keys.Any(k => k.StartsWith("audience", StringComparison.Ordinal))) audience = filter;
            }
        }
        return errors;
    }

    /// <summary><c>sendAt</c>: null when not given (now) or wrong (then in <paramref name="errors"/>).</summary>
    public static DateTimeOffset? ValidateSendAt(string? text, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        if (text is null) return null;
        if (!EndsWithOffset().IsMatch(text) ||
            !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            errors["sendAt"] = ["sendAt is an ISO 8601 time with an offset, such as 2026-12-24T18:00:00+01:00."];
        else if (at < now - PastTolerance)
            errors["sendAt"] = ["sendAt is in the past. Leave it out to send now."];
        else if (at > now + MaxAhead)
            errors["sendAt"] = ["sendAt is more than a year ahead."];
        else return at.ToUniversalTime();
        return null;
    }

    /// <summary>A list of an audience: null when not given; 1..100 non-blank values (trimmed, as attributes are stored).</summary>
    private static IReadOnlyList<string>? AudienceValues(List<string?>? values, string field, Dictionary<string, string[]> errors)
    {
        if (values is null) return null;
        if (values.Count is 0 or > MaxAudienceValues)
            errors[field] = [$"{field} holds 1 to {MaxAudienceValues} values; leave it out not to filter by it."];
        else if (values.FindIndex(string.IsNullOrWhiteSpace) is >= 0 and var blankAt)
            errors[field] = [$"{field}[{blankAt}] is empty; every entry is a value to match."];
        else return [.. values.Select(v => v!.Trim()).Distinct(StringComparer.Ordinal)];
        return null;
    }

    public static string? ValidateMessage(string? message) =>
        string.IsNullOrWhiteSpace(message) ? "message must not be empty."
        : message.Length > MaxMessageLength ? $"message is at most {MaxMessageLength} characters (this one has {message.Length})."
        : null;

    public static string? ValidateIdempotencyKey(string? key) =>
        key is null ? null
        : key.Length is 0 or > MaxIdempotencyKeyLength || key.Any(char.IsControl)
            ? $"Idempotency-Key is 1-{MaxIdempotencyKeyLength} printable characters."
            : null;

    private static TemplateContent? ValidateTemplate(TemplateRequest t, Dictionary<string, string[]> errors)
    {
        if (t.Name is null || !TemplateName().IsMatch(t.Name))
            errors["template.name"] = ["template.name is the template's name: lowercase letters, digits and '_'."];
        // Left out, each employee gets their language's variant (checked against the sender's catalog at create).
        if (t.Language is not null && !LanguageCode().IsMatch(t.Language))
            errors["template.language"] = ["template.language is a language code such as en or en_US."];
        var parameters = t.Parameters ?? [];
        if (parameters.Count > 100 || parameters.Any(p => string.IsNullOrEmpty(p) || p.Length > 1024))
            errors["template.parameters"] = ["template.parameters holds up to 100 non-empty strings of at most 1024 characters."];
        return errors.Count == 0 ? new TemplateContent(t.Name!, t.Language ?? "", parameters) : null;
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
