namespace Bot.Webhook.Api;

/// <summary>A page of results; pass <see cref="NextCursor"/> as <c>cursor</c> for the next one (null: no more).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static bool TryLimit(int? limit, out int value, out Dictionary<string, string[]> errors)
    {
        value = limit ?? DefaultLimit;
        errors = [];
        if (value is >= 1 and <= MaxLimit) return true;
        errors["limit"] = [$"limit must be between 1 and {MaxLimit}."];
        return false;
    }

    /// <summary>Reads a page cursor: the offset into the list being paged, which a previous page gave as nextCursor.</summary>
    public static bool TryOffset(string? cursor, out long offset, out Dictionary<string, string[]> errors)
    {
        errors = [];
        if (long.TryParse(cursor ?? "0", out offset) && offset >= 0) return true;
        errors["cursor"] = ["cursor is the nextCursor of a previous page."];
        return false;
    }
}
