using System.Globalization;

namespace Bot.Core.Deliveries;

public enum DeliveryState { Claimed, Sent, Delivered, Read, Failed, Unknown, Skipped }

/// <summary>
/// The value of a delivery key: <c>state|updatedAtMs|reference|error</c>, where reference is the claiming
/// dispatcher while claimed and the WhatsApp message id once sent. Kept as one short string because
/// there is one per (announcement, employee) and 100k-employee companies exist.
/// </summary>
public sealed record DeliveryRecord(DeliveryState State, DateTimeOffset UpdatedAt, string? Reference = null, string? Error = null)
{
    public static DeliveryRecord Claimed(string owner, DateTimeOffset now) => new(DeliveryState.Claimed, now, owner);

    public string? MessageId => State is DeliveryState.Claimed ? null : Reference;

    public static string Code(DeliveryState state) => state switch
    {
        DeliveryState.Claimed => "c",
        DeliveryState.Sent => "s",
        DeliveryState.Delivered => "d",
        DeliveryState.Read => "r",
        DeliveryState.Failed => "f",
        DeliveryState.Unknown => "u",
        DeliveryState.Skipped => "k",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    /// <summary>The announcement counter this state is counted in (claimed is not counted).</summary>
    public static string? Counter(DeliveryState state) => state switch
    {
        DeliveryState.Claimed => null,
        _ => Name(state),
    };

    public static string Name(DeliveryState state) => state switch
    {
        DeliveryState.Claimed => "claimed",
        DeliveryState.Sent => "sent",
        DeliveryState.Delivered => "delivered",
        DeliveryState.Read => "read",
        DeliveryState.Failed => "failed",
        DeliveryState.Unknown => "unknown",
        DeliveryState.Skipped => "skipped",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public override string ToString() =>
        string.Join('|', Code(State), UpdatedAt.ToUnixMs().ToString(CultureInfo.InvariantCulture), Reference, Error);

    public static DeliveryRecord Parse(string value)
    {
        var parts = value.Split('|', 4);
        var state = parts[0] switch
        {
            "c" => DeliveryState.Claimed,
            "s" => DeliveryState.Sent,
            "d" => DeliveryState.Delivered,
            "r" => DeliveryState.Read,
            "f" => DeliveryState.Failed,
            "u" => DeliveryState.Unknown,
            "k" => DeliveryState.Skipped,
            _ => throw new FormatException($"Unknown delivery state in '{value}'."),
        };
        return new DeliveryRecord(state, Clock.FromUnixMs(long.Parse(parts[1], CultureInfo.InvariantCulture)),
            NullIfEmpty(parts.ElementAtOrDefault(2)), NullIfEmpty(parts.ElementAtOrDefault(3)));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
