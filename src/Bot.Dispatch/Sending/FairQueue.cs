namespace Bot.Dispatch;

/// <summary>Waiting sends by lane: urgent lanes first; otherwise groups in turn, and the lanes of a group in turn.</summary>
internal sealed class FairQueue
{
    private readonly Dictionary<SendLane, Queue<TaskCompletionSource<long>>> lanes = [];
    private readonly LinkedList<string> groups = new();
    private readonly Dictionary<string, LinkedList<SendLane>> groupLanes = [];
    private readonly LinkedList<SendLane> urgent = new();

    public bool IsEmpty => lanes.Count == 0;

    public void Enqueue(SendLane lane, TaskCompletionSource<long> turn)
    {
        if (!lanes.TryGetValue(lane, out var queue))
        {
            lanes[lane] = queue = new Queue<TaskCompletionSource<long>>();
            if (lane.Urgent) urgent.AddLast(lane);
            else
            {
                if (!groupLanes.TryGetValue(lane.Group, out var inGroup))
                {
                    groupLanes[lane.Group] = inGroup = new LinkedList<SendLane>();
                    groups.AddLast(lane.Group);
                }
                inGroup.AddLast(lane);
            }
        }
        queue.Enqueue(turn);
    }

    public bool TryDequeue(out TaskCompletionSource<long> turn)
    {
        var lane = urgent.First is { } u ? Rotate(urgent, u) : NextRegular();
        if (lane is not { } chosen)
        {
            turn = null!;
            return false;
        }
        var queue = lanes[chosen];
        turn = queue.Dequeue();
        if (queue.Count == 0) Remove(chosen);
        return true;
    }

    private SendLane? NextRegular()
    {
        if (groups.First is not { } group) return null;
        Rotate(groups, group);
        var inGroup = groupLanes[group.Value];
        return Rotate(inGroup, inGroup.First!);
    }

    /// <summary>The node's value, with the node moved to the back of its list (its next turn comes after the others').</summary>
    private static T Rotate<T>(LinkedList<T> list, LinkedListNode<T> node)
    {
        list.Remove(node);
        list.AddLast(node);
        return node.Value;
    }

    private void Remove(SendLane lane)
    {
        lanes.Remove(lane);
        if (lane.Urgent)
        {
            urgent.Remove(lane);
            return;
        }
        var inGroup = groupLanes[lane.Group];
        inGroup.Remove(lane);
        if (inGroup.Count > 0) return;
        groupLanes.Remove(lane.Group);
        groups.Remove(lane.Group);
    }
}
