using System.Globalization;

namespace Bot.Core.Deliveries;

/// <summary>
/// The value of a delivery key: <c>state|updatedAtMs|reference|error</c>, where reference is the claiming
/// dispatcher while claimed and the WhatsApp message id once sent. Kept as one short string because
/// there is one per (announcement, employee) and 100k-employee companies exist.
/// </summary>
public sealed record DeliveryRecord(DeliveryState State, DateTimeOffset UpdatedAt, string? Reference = null, string? Error = null)
{
    public static DeliveryRecord Claimed(string owner, DateTimeOffset now) => new(DeliveryState.Claimed, now, owner);

    public string? MessageId => State is DeliveryState.Claimed ? null : Reference;

    public override string ToString() =>
        string.Join('|', State.Code(), UpdatedAt.ToUnixMs().ToString(CultureInfo.InvariantCulture), Reference, Error);

    public static DeliveryRecord Parse(string value)
    {
        var parts = value.Split('|', 4);
        if (parts[0] is not [var code] || !DeliveryStates.TryParseCode(code, out var state))
            throw new FormatException($"Unknown delivery state in '{value}'.");
        return new DeliveryRecord(state, Clock.FromUnixMs(long.Parse(parts[1], CultureInfo.InvariantCulture)),
            NullIfEmpty(parts.ElementAtOrDefault(2)), NullIfEmpty(parts.ElementAtOrDefault(3)));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
