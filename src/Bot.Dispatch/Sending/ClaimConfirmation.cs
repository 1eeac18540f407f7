using Bot.Core.Employees;
using Bot.Core.Replication;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// What every claim needs once taken and before its request — a delivery's SET NX, a template re-send's swap, a
/// reminder's gate: the replicas have it (a claim only the primary holds dies with it in a failover, and the promoted
/// replica would let the message be claimed and sent again), and a business-initiated message its place in the
/// messaging limit (taken only together with a claim, so a refused claim never costs one). Not confirmed, the caller
/// undoes its claim; a replica that did not acknowledge also pauses the sender, whose next send stops the pass.
/// </summary>
public sealed class ClaimConfirmation(ClaimReplication replication, DispatchPause pause, MessagingLimitGate limit, TimeProvider time)
{
    public async Task<bool> ConfirmAsync(Pass pass, RedisKey claimKey, Employee employee, bool takesPlace)
    {
        if (await replication.UnacknowledgedAsync(claimKey) is { } why)
        {
            pause.Trip(pass.Sender.Id, replication.Pause, why);
            return false;
        }
        return !takesPlace || await limit.ReachAsync(pass, employee, time.GetUtcNow());
    }
}
