using System.Text.RegularExpressions;

namespace Bot.Core;

public static partial class Ids
{
    /// <summary>Employee and employer ids: what an HR system uses, and safe inside a Redis key.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    public static partial Regex Pattern();

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);
}
