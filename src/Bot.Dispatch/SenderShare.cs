namespace Bot.Dispatch;

/// <summary>
/// Which sender locks one replica holds: ⌈senders / live replicas⌉ at most. Each replica walks the senders from its own
/// starting point (a hash of its name), so replicas starting together mostly ask for different locks, and gives up
/// the last ones of its walk first.
/// </summary>
public static class SenderShare
{
    /// <param name="all">Every configured sender, in ordinal order.</param>
    /// <param name="live">Live replicas, this one included (at least 1).</param>
    /// <param name="held">The senders this replica holds now.</param>
    /// <param name="owner">This replica's name.</param>
    /// <returns>Its share, the order to ask for locks in, and the held senders to release (over the share).</returns>
    public static (int Share, string[] Walk, string[] Release) Plan(IReadOnlyList<string> all, int live, IReadOnlyCollection<string> held, string owner)
    {
        live = Math.Max(1, live);
        var share = (all.Count + live - 1) / live;
        var start = all.Count == 0 ? 0 : (int)((uint)StringComparer.Ordinal.GetHashCode(owner) % (uint)all.Count);
        string[] walk = [.. all.Skip(start), .. all.Take(start)];
        var release = held.OrderByDescending(s => Array.IndexOf(walk, s)).Take(Math.Max(0, held.Count - share)).ToArray();
        return (share, walk, release);
    }
}
