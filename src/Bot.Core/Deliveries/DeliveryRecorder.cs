namespace Bot.Core.Deliveries;

/// <summary>
/// Group commit of send outcomes: while one batch is being written, the outcomes that arrive queue up and go in the
/// next one, so under load one transition-delivery.lua call records many deliveries (one SET each, one HINCRBY per
/// counter), and when idle an outcome is written at once. A caller's task completes only once its outcome is in
/// Redis, and each sender awaits it before claiming another delivery: a crash still leaves at most as many
/// claimed-but-unrecorded deliveries as there are concurrent sends.
/// </summary>
public sealed class DeliveryRecorder(DeliveryStore deliveries)
{
    private readonly GroupCommit<DeliveryTransition, bool> group = new(deliveries.TransitionManyAsync);

    /// <summary>Moves one delivery forward, in the next batch; true when it moved (see <see cref="DeliveryStore.TransitionAsync"/>).</summary>
    public Task<bool> TransitionAsync(DeliveryTransition transition) => group.AddAsync(transition);
}
