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
    private readonly Lock gate = new();
    private List<(DeliveryTransition Transition, TaskCompletionSource<bool> Done)> pending = [];
    private bool writing;

    /// <summary>Moves one delivery forward, in the next batch; true when it moved (see <see cref="DeliveryStore.TransitionAsync"/>).</summary>
    public Task<bool> TransitionAsync(DeliveryTransition transition)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (gate)
        {
            pending.Add((transition, done));
            start = !writing;
            writing = true;
        }
        if (start) _ = WriteAsync();
        return done.Task;
    }

    private async Task WriteAsync()
    {
        while (true)
        {
            List<(DeliveryTransition Transition, TaskCompletionSource<bool> Done)> batch;
            lock (gate)
            {
                if (pending.Count == 0)
                {
                    writing = false;
                    return;
                }
                batch = pending;
                pending = [];
            }
            try
            {
                var moved = await deliveries.TransitionManyAsync([.. batch.Select(b => b.Transition)]);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.SetResult(moved[i]);
            }
            catch (Exception ex)
            {
                // Each waiter sees the failure as its own transition's, as it would without batching.
                foreach (var (_, done) in batch) done.SetException(ex);
            }
        }
    }
}
