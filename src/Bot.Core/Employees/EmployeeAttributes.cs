using System.Text.RegularExpressions;

namespace Bot.Core.Employees;

/// <summary>
/// What an employer knows about an employee beyond the phone: audiences select by department, location and tags;
/// language and time zone say how and when to reach them. Null (or no tags) means not set.
/// </summary>
public sealed record EmployeeAttributes(
    string? Department = null, string? Location = null, string? Language = null, string? TimeZone = null, IReadOnlyList<string>? Tags = null)
{
    public static readonly EmployeeAttributes None = new();

    public IReadOnlyList<string> TagList => Tags ?? [];
}

/// <summary>
/// The one definition of valid attributes, used by <c>PUT /api/employees/{id}</c> and by the import. Values are
/// trimmed; blank means "not set". Errors are keyed by the JSON field name so a 400 names the field.
/// </summary>
public static partial class EmployeeAttributeRules
{
    public const int MaxTextLength = 100;
    public const int MaxTags = 20;
    public const int MaxTagLength = 50;

    /// <summary>Separates tags in a CSV cell, and (since no tag may hold it) in the employee hash too.</summary>
    public const char TagSeparator = ';';

    /// <summary>
    /// BCP 47's shape (language, optional script, region and variants: en, en-GB, zh-Hant-TW, sr-Latn-RS). A regex,
    /// not CultureInfo: the hosts run with InvariantGlobalization, where CultureInfo knows no culture names.
    /// </summary>
    [GeneratedRegex(@"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$")]
    private static partial Regex LanguageTag();

    /// <summary>An IANA zone name's shape (Europe/Berlin, America/Argentina/Buenos_Aires, UTC), checked before the
    /// name reaches the file system through TimeZoneInfo.</summary>
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,3}$")]
    private static partial Regex ZoneName();

    public static EmployeeAttributes Validate(
        string? department, string? location, string? language, string? timeZone, IEnumerable<string?>? tags, Dictionary<string, string[]> errors)
    {
        var attributes = new EmployeeAttributes(
            Text(department, "department", errors),
            Text(location, "location", errors),
            Language(language, errors),
            Zone(timeZone, errors),
            Tags(tags, errors));
        return attributes;
    }

    /// <summary>True when <paramref name="zone"/> is an IANA time zone this machine's tzdata knows.</summary>
    public static bool IsIanaZone(string zone) =>
        zone.Length <= 64 && ZoneName().IsMatch(zone) &&
        TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var found) && found.HasIanaId;

    private static string? Text(string? value, string field, Dictionary<string, string[]> errors)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        if (text.Length > MaxTextLength || text.Any(char.IsControl))
        {
            errors[field] = [$"{field} is at most {MaxTextLength} characters, without control characters."];
            return null;
        }
        return text;
    }

    private static string? Language(string? value, Dictionary<string, string[]> errors)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        if (text.Length > 35 || !LanguageTag().IsMatch(text))
        {
            errors["language"] = ["language is a BCP 47 language tag, such as en, en-GB or pt-BR."];
            return null;
        }
        return text;
    }

    private static string? Zone(string? value, Dictionary<string, string[]> errors)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        if (!IsIanaZone(text))
        {
            errors["timeZone"] = ["timeZone is an IANA time zone, such as Europe/Berlin or America/New_York."];
            return null;
        }
        return text;
    }

    private static IReadOnlyList<string>? Tags(IEnumerable<string?>? values, Dictionary<string, string[]> errors)
    {
        if (values is null) return null;
        var tags = new List<string>();
        foreach (var value in values)
        {
            var tag = value?.Trim();
            if (string.IsNullOrEmpty(tag) || tag.Length > MaxTagLength || tag.Contains(TagSeparator) || tag.Any(char.IsControl))
            {
                errors["tags"] = [$"tags holds up to {MaxTags} non-empty tags of at most {MaxTagLength} characters, without ';' or control characters."];
                return null;
            }
            if (!tags.Contains(tag, StringComparer.Ordinal)) tags.Add(tag);
        }
        if (tags.Count > MaxTags)
        {
            errors["tags"] = [$"tags holds up to {MaxTags} tags."];
            return null;
        }
        return tags.Count == 0 ? null : tags;
    }
}

/// <summary>
/// Selects employees by attribute: AND across the given lists, OR within one (an employee matches <c>tags</c>
/// when it has any of them). A null list does not filter. employee-statuses.lua evaluates it in Redis.
/// </summary>
public sealed record AudienceFilter(IReadOnlyList<string>? Departments = null, IReadOnlyList<string>? Locations = null, IReadOnlyList<string>? Tags = null)
{
    /// <summary>The script's arguments: each list as its length followed by its values (0 = not filtered).</summary>
    internal IEnumerable<string> ToScriptArguments() =>
        new[] { Departments, Locations, Tags }.SelectMany(list => (IEnumerable<string>)[(list?.Count ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture), .. list ?? []]);
}
