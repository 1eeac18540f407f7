using System.Globalization;

namespace Bot.Core.Deliveries;

/// <summary>How a delivery's message went: free-form text (inside the 24-hour window) or the fallback template.</summary>
public static class DeliveryForm
{
    public const string Text = "text";
    public const string Template = "template";
}

/// <summary>
/// The value of a delivery key: <c>state|updatedAtMs|reference|error|form</c>, where reference is the claiming
/// dispatcher while claimed and the WhatsApp message id once sent, and form is <see cref="DeliveryForm"/> (kept by
/// transitions that do not name one, such as status webhooks). Kept as one short string because there is one per
/// (announcement, employee) and 100k-employee companies exist.
/// </summary>
public sealed record DeliveryRecord(DeliveryState State, DateTimeOffset UpdatedAt, string? Reference = null, string? Error = null, string? Form = null)
{
    public static DeliveryRecord Claimed(string owner, DateTimeOffset now, string? form = null) => new(DeliveryState.Claimed, now, owner, Form: form);

    public string? MessageId => State is DeliveryState.Claimed ? null : Reference;

    public override string ToString() => Form is null
        ? string.Create(CultureInfo.InvariantCulture, $"{State.Code()}|{UpdatedAt.ToUnixMs()}|{Reference}|{Error}")
        : string.Create(CultureInfo.InvariantCulture, $"{State.Code()}|{UpdatedAt.ToUnixMs()}|{Reference}|{Error}|{Form}");

    public static DeliveryRecord Parse(string value)
    {
        var parts = value.Split('|', 5);
        if (parts[0] is not [var code] || !DeliveryStates.TryParseCode(code, out var state))
            throw new FormatException($"Unknown delivery state in '{value}'.");
        return new DeliveryRecord(state, Clock.FromUnixMs(long.Parse(parts[1], CultureInfo.InvariantCulture)),
            NullIfEmpty(parts.ElementAtOrDefault(2)), NullIfEmpty(parts.ElementAtOrDefault(3)), NullIfEmpty(parts.ElementAtOrDefault(4)));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
