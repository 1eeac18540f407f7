using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>
/// The one place a delivery is claimed (SET NX of its key: whoever creates it alone may send) and given back. A claim
/// names its pass (<see cref="Pass.Owner"/>), so a hand-back or a take-over is always about one pass's claim.
/// </summary>
/// <remarks>
/// The claims this dispatcher's sends ask for while a write is in flight go in the next one, with the outcomes being
/// recorded (<see cref="DeliveryWrites"/>), each still asked for right before its own request (and so only once its
/// send permit was granted). Under load that is a fraction of a round trip per delivery; alone, a claim waits for nothing.
/// </remarks>
public sealed class DeliveryClaimer(
    DeliveryStore deliveries, DeliveryWrites writes, ClaimConfirmation confirmation, DispatcherMetrics metrics, IOptions<DispatcherOptions> options,
    TimeProvider time)
{
    private readonly DispatcherOptions options = options.Value;

    /// <summary>
    /// The claim of one delivery for <see cref="SendAttempts"/>, taken right before its request: the delivery's key,
    /// confirmed (<see cref="ClaimConfirmation"/>: the replicas, and for a business-initiated message — <paramref name="takesPlace"/> —
    /// the employee's place in the messaging limit).
    /// </summary>
    public SendClaim For(Pass pass, Employee employee, string form, bool takesPlace, string? language = null)
    {
        DeliveryRecord? held = null;
        return new SendClaim(
            async () =>
            {
                if (await TryClaimAsync(pass, employee.EmployeeId, form, language) is not { } claim) return false;
                if (!await confirmation.ConfirmAsync(pass, RedisKeys.Delivery(pass.Announcement.Id, employee.EmployeeId), employee, takesPlace))
                {
                    await ReleaseAsync(pass, employee.EmployeeId, claim);
                    return false;
                }
                held = claim;
                return true;
            },
            async () =>
            {
                if (held is not { } claim) return true;
                held = null;
                return await ReleaseAsync(pass, employee.EmployeeId, claim);
            });
    }

    /// <summary>Claims the delivery for the pass; null when another claim or outcome is there (settled when it was abandoned).</summary>
    public async Task<DeliveryRecord?> TryClaimAsync(Pass pass, string employeeId, string form, string? language = null)
    {
        var announcementId = pass.Announcement.Id;
        var claim = DeliveryRecord.Claimed(pass.Owner, time.GetUtcNow(), form);
        if (await writes.ClaimAsync(announcementId, new DeliveryClaim(employeeId, claim, language)) is not { } theirs) return claim;
        metrics.DuplicatePrevented();
        await SettleIfAbandonedAsync(pass, employeeId, theirs);
        return null;
    }

    /// <summary>Deletes the pass's own claim, for a send known not to have gone out: a later pass sends it. False when the record is no longer that claim.</summary>
    public Task<bool> ReleaseAsync(Pass pass, string employeeId, DeliveryRecord claim) =>
        deliveries.ReleaseAsync(pass.Announcement.Id, employeeId, claim);

    /// <summary>
    /// A delivery left 'claimed' by a dispatcher that died mid-send may or may not have gone out, so it becomes
    /// 'unknown' and is never re-sent; a status webhook carrying its callback data can still prove it was sent.
    /// </summary>
    public async Task SettleIfAbandonedAsync(Pass pass, string employeeId, DeliveryRecord record)
    {
        var owner = pass.Owner;
        var announcementId = pass.Announcement.Id;
        if (record.State != DeliveryState.Claimed || record.Reference == owner) return;
        var now = time.GetUtcNow();
        // A template re-send runs beside the fan-outs, in its own lane: its claim is live until it is stale.
        if (record.Reference?.EndsWith(ResendPass.Owner, StringComparison.Ordinal) == true && now - record.UpdatedAt <= options.StaleClaimAfter) return;
        // A claim whose dispatcher holds the announcement's lease is live, however old: its request is out.
        var leaseOwner = await pass.Queue.LeaseOwnerAsync(announcementId);
        if (leaseOwner is not null && record.Reference?.StartsWith(leaseOwner + "#", StringComparison.Ordinal) == true &&
            !owner.StartsWith(leaseOwner + "#", StringComparison.Ordinal)) return;
        // Under the lock, any other claimant is a dispatcher that lost the lock; without it, only age tells.
        if ((options.UseLock && pass.MayGoOn()) || now - record.UpdatedAt > options.StaleClaimAfter)
            await deliveries.TransitionAsync(announcementId, employeeId, new DeliveryRecord(DeliveryState.Unknown, now, Error: "abandoned"), record);
    }
}
