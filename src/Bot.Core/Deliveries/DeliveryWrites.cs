namespace Bot.Core.Deliveries;

/// <summary>
/// Group commit of a dispatcher's delivery claims and send outcomes: while one write is in flight, those asked for
/// meanwhile queue up and go in the next one (<see cref="DeliveryStore.WriteAsync"/>: one pipelined round trip, a
/// claim-delivery.lua call per announcement for the claims, transition-delivery.lua for the outcomes), so under load one
/// round trip — with AOF <c>always</c>, one fsync — serves many deliveries, and a lone caller waits for nothing. A
/// sender's outcome and its next claim travel together. A caller's task completes only once its write is in Redis, or
/// fails with the write.
/// </summary>
/// <param name="retention">How long a claimed delivery's key lives (<c>Dispatcher:DeliveryRetention</c>).</param>
public sealed class DeliveryWrites(DeliveryStore deliveries, TimeSpan retention)
{
    private readonly GroupCommit<Write, (DeliveryRecord? Theirs, bool Moved)> group = new(writes => WriteAsync(deliveries, retention, writes));

    /// <summary>The SET NX claim of one delivery: null when this caller created its key (and alone may send), else the record there.</summary>
    public async Task<DeliveryRecord?> ClaimAsync(string announcementId, DeliveryClaim claim) =>
        (await group.AddAsync(new Write(announcementId, claim, null))).Theirs;

    /// <summary>Moves one delivery forward; true when it moved (see <see cref="DeliveryStore.TransitionAsync"/>).</summary>
    public async Task<bool> TransitionAsync(DeliveryTransition transition) =>
        (await group.AddAsync(new Write(transition.AnnouncementId, null, transition))).Moved;

    private readonly record struct Write(string AnnouncementId, DeliveryClaim? Claim, DeliveryTransition? Outcome);

    private static async Task<(DeliveryRecord? Theirs, bool Moved)[]> WriteAsync(DeliveryStore deliveries, TimeSpan retention, IReadOnlyList<Write> writes)
    {
        var claims = new List<(string AnnouncementId, DeliveryClaim Claim)>();
        var outcomes = new List<DeliveryTransition>();
        foreach (var write in writes)
        {
            if (write.Claim is { } claim) claims.Add((write.AnnouncementId, claim));
            else outcomes.Add(write.Outcome!.Value);
        }
        var (records, moved) = await deliveries.WriteAsync(claims, outcomes, retention);
        var results = new (DeliveryRecord?, bool)[writes.Count];
        int c = 0, o = 0;
        for (var i = 0; i < writes.Count; i++) results[i] = writes[i].Claim is not null ? (records[c++], false) : (null, moved[o++]);
        return results;
    }
}
