namespace Bot.Core.Deliveries;

/// <summary>
/// Group commit: what callers ask for while a write is in flight goes out together in the next write, so a burst of
/// concurrent callers costs one round trip instead of one each, and a lone caller waits for nothing. Each caller gets its
/// own item's result, or the write's failure as its own.
/// </summary>
/// <param name="write">Writes a group (its list is reused once the returned task completes); returns one result per item, in order.</param>
public sealed class GroupCommit<TItem, TResult>(Func<IReadOnlyList<TItem>, Task<TResult[]>> write)
{
    private readonly Lock gate = new();
    private List<(TItem Item, TaskCompletionSource<TResult> Done)> pending = [];
    private bool writing;

    // The writer's own, reused from group to group: a busy group commit allocates nothing per group but its write.
    private List<(TItem Item, TaskCompletionSource<TResult> Done)> spare = [];
    private readonly List<TItem> items = [];

    public Task<TResult> AddAsync(TItem item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (gate)
        {
            pending.Add((item, done));
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
            List<(TItem Item, TaskCompletionSource<TResult> Done)> group;
            lock (gate)
            {
                if (pending.Count == 0)
                {
                    writing = false;
                    return;
                }
                group = pending;
                pending = spare;
            }
            try
            {
                foreach (var (item, _) in group) items.Add(item);
                var results = await write(items);
                for (var i = 0; i < group.Count; i++) group[i].Done.SetResult(results[i]);
            }
            catch (Exception ex)
            {
                foreach (var (_, done) in group) done.SetException(ex);
            }
            items.Clear();
            group.Clear();
            spare = group;
        }
    }
}
