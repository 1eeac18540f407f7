namespace Bot.Core.Deliveries;

public enum DeliveryState { Claimed, Sent, Delivered, Read, Failed, Unknown, Skipped }

/// <summary>
/// The one definition of the delivery state machine: each state's code (the first character of a delivery value in
/// Redis), its name (API, portal, announcement counter field) and the states it may move to. A state never goes
/// backwards, because WhatsApp does not promise status order. transition-delivery.lua and the portal repeat parts
/// of this table; DeliveryStateDefinitionTests fails when they drift.
/// </summary>
public static class DeliveryStates
{
    private sealed record Definition(DeliveryState State, char Code, string Name, bool Counted, DeliveryState[] Next);

    private static readonly Definition[] Definitions =
    [
        // Not counted: a claim is the moment between SET NX and the send, not an outcome.
        new(DeliveryState.Claimed, 'c', "claimed", Counted: false,
            [DeliveryState.Unknown, DeliveryState.Sent, DeliveryState.Delivered, DeliveryState.Read, DeliveryState.Failed]),
        new(DeliveryState.Sent, 's', "sent", Counted: true, [DeliveryState.Delivered, DeliveryState.Read, DeliveryState.Failed]),
        new(DeliveryState.Delivered, 'd', "delivered", Counted: true, [DeliveryState.Read]),
        new(DeliveryState.Read, 'r', "read", Counted: true, []),
        new(DeliveryState.Failed, 'f', "failed", Counted: true, []),
        // A status webhook may still prove where an unknown send went.
        new(DeliveryState.Unknown, 'u', "unknown", Counted: true,
            [DeliveryState.Sent, DeliveryState.Delivered, DeliveryState.Read, DeliveryState.Failed]),
        new(DeliveryState.Skipped, 'k', "skipped", Counted: true, []),
    ];

    /// <summary>Every state, in declaration order.</summary>
    public static IReadOnlyList<DeliveryState> All { get; } = [.. Definitions.Select(d => d.State)];

    /// <summary>
    /// The announcement hash's counter fields in API order (<see cref="Announcements.DeliveryCounts"/>): the number
    /// targeted, then one per counted state.
    /// </summary>
    public static IReadOnlyList<string> CountFields { get; } =
        ["targeted", .. Definitions.Where(d => d.Counted).Select(d => d.Name)];

    public static char Code(this DeliveryState state) => Find(state).Code;

    public static string Name(this DeliveryState state) => Find(state).Name;

    /// <summary>The announcement counter this state is counted in; null for <c>claimed</c>.</summary>
    public static string? Counter(this DeliveryState state) => Find(state) is { Counted: true } d ? d.Name : null;

    public static bool CanMoveTo(this DeliveryState from, DeliveryState to) => Find(from).Next.Contains(to);

    public static bool TryParseCode(char code, out DeliveryState state) => TryFind(d => d.Code == code, out state);

    public static bool TryParseName(string? name, out DeliveryState state) => TryFind(d => d.Name == name, out state);

    private static Definition Find(DeliveryState state) =>
        Definitions[(int)state] is { } d && d.State == state ? d : throw new ArgumentOutOfRangeException(nameof(state));

    private static bool TryFind(Func<Definition, bool> match, out DeliveryState state)
    {
        var found = Definitions.FirstOrDefault(match);
        state = found?.State ?? default;
        return found is not null;
    }
}
