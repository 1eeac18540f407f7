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
}
