using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Deliveries;

/// <summary>What a dispatcher asks for when it claims one delivery.</summary>
public readonly record struct DeliveryClaim(string EmployeeId, DeliveryRecord Record);

/// <summary>One requested move of a delivery; <paramref name="Expected"/> null = from whatever it is now.</summary>
public readonly record struct DeliveryTransition(string AnnouncementId, string EmployeeId, DeliveryRecord Next, DeliveryRecord? Expected = null);

public sealed class DeliveryStore(IDatabase db)
{
    /// <summary>SET NX of one delivery key: null when this caller created it (and alone may send), else the record there.</summary>
    public async Task<DeliveryRecord?> TryClaimAsync(string announcementId, string employeeId, DeliveryRecord claim, TimeSpan retention) =>
        ToRecord(await Claim(db, announcementId, new DeliveryClaim(employeeId, claim), retention));

    /// <summary>Many SET NX claims in one pipelined round trip (used for deliveries decided without a send).</summary>
    public async Task<DeliveryRecord?[]> ClaimAsync(string announcementId, IReadOnlyList<DeliveryClaim> claims, TimeSpan retention)
    {
        var batch = db.CreateBatch();
        var calls = claims.Select(c => Claim(batch, announcementId, c, retention)).ToArray();
        batch.Execute();
        return [.. (await Task.WhenAll(calls)).Select(ToRecord)];
    }

    private static Task<RedisResult> Claim(IDatabaseAsync db, string announcementId, DeliveryClaim claim, TimeSpan retention) =>
        db.ScriptEvaluateAsync(LuaScripts.ClaimDelivery,
            [RedisKeys.Delivery(announcementId, claim.EmployeeId), RedisKeys.Announcement(announcementId)],
            [claim.Record.ToString(), (long)retention.TotalSeconds, claim.Record.State.Counter() ?? ""]);

    private static DeliveryRecord? ToRecord(RedisResult result) => result.IsNull ? null : DeliveryRecord.Parse((string)result!);

    /// <summary>Whether the delivery still holds exactly this claim (nobody settled or took it meanwhile).</summary>
    public async Task<bool> IsHeldAsync(string announcementId, string employeeId, DeliveryRecord claim) =>
        await db.StringGetAsync(RedisKeys.Delivery(announcementId, employeeId)) == claim.ToString();

    /// <summary>Moves a delivery forward (never backwards); false when the move is not allowed or
    /// <paramref name="expected"/> no longer holds.</summary>
    public async Task<bool> TransitionAsync(string announcementId, string employeeId, DeliveryRecord next, DeliveryRecord? expected = null) =>
        (await TransitionManyAsync([new DeliveryTransition(announcementId, employeeId, next, expected)]))[0];

    /// <summary>
    /// Applies many transitions in one pipeline (a webhook POST carries up to 1,000 statuses). Each one moves
    /// forward or not at all, like <see cref="TransitionAsync"/>. A delivery that becomes <c>sent</c> is also
    /// indexed by its message id, with the delivery record's remaining TTL, so a status update that lacks
    /// biz_opaque_callback_data still finds it.
    /// </summary>
    public async Task<bool[]> TransitionManyAsync(IReadOnlyList<DeliveryTransition> transitions)
    {
        var batch = db.CreateBatch();
        var applied = new Task<RedisResult>[transitions.Count];
        for (var i = 0; i < transitions.Count; i++)
        {
            var (announcementId, employeeId, next, expected) = transitions[i];
            applied[i] = batch.ScriptEvaluateAsync(LuaScripts.TransitionDelivery,
                [RedisKeys.Delivery(announcementId, employeeId), RedisKeys.Announcement(announcementId)],
                [next.ToString(), expected?.ToString() ?? ""]);
        }
        batch.Execute();
        await Task.WhenAll(applied);

        // The script answers with the record's remaining TTL (ms) when it applied the move: no PTTL of our own.
        var replies = applied.Select(a => (long)a.Result).ToArray();
        var results = replies.Select(r => r != 0).ToArray();
        var index = db.CreateBatch();
        var writes = new List<Task>();
        for (var i = 0; i < transitions.Count; i++)
        {
            var t = transitions[i];
            if (replies[i] <= 0 || t.Next is not { State: DeliveryState.Sent, Reference: not null }) continue;
            writes.Add(index.StringSetAsync(RedisKeys.MessageDelivery(t.Next.Reference), new DeliveryRef(t.AnnouncementId, t.EmployeeId).Format(),
                TimeSpan.FromMilliseconds(replies[i])));
        }
        if (writes.Count > 0)
        {
            index.Execute();
            await Task.WhenAll(writes);
        }
        return results;
    }

    /// <summary>The (announcement, employee) each message id was sent for; null where it is not indexed.</summary>
    public async Task<DeliveryRef?[]> FindByMessageIdsAsync(IReadOnlyList<string> messageIds)
    {
        if (messageIds.Count == 0) return [];
        var batch = db.CreateBatch();
        var reads = messageIds.Select(id => batch.StringGetAsync(RedisKeys.MessageDelivery(id))).ToArray();
        batch.Execute();
        var values = await Task.WhenAll(reads);
        return [.. values.Select(v => DeliveryRef.ParseOrNull(v))];
    }

    /// <summary>Deletes this caller's own claim, for a send known not to have gone out.</summary>
    public async Task ReleaseAsync(string announcementId, string employeeId, DeliveryRecord claim) =>
        await db.ScriptEvaluateAsync(LuaScripts.ReleaseDelivery,
            [RedisKeys.Delivery(announcementId, employeeId)], [claim.ToString()]);

    /// <summary>
    /// Replaces the record only if it is exactly <paramref name="expected"/> (see swap-delivery.lua: the 131047 template
    /// re-send and its give-back, the one move outside the state machine); true when swapped.
    /// </summary>
    public async Task<bool> SwapAsync(string announcementId, string employeeId, DeliveryRecord expected, DeliveryRecord next) =>
        (long)await db.ScriptEvaluateAsync(LuaScripts.SwapDelivery,
            [RedisKeys.Delivery(announcementId, employeeId), RedisKeys.Announcement(announcementId)],
            [expected.ToString(), next.ToString()]) == 1;

    public async Task<DeliveryRecord?> GetAsync(string announcementId, string employeeId)
    {
        var value = await db.StringGetAsync(RedisKeys.Delivery(announcementId, employeeId));
        return value.IsNull ? null : DeliveryRecord.Parse(value!);
    }

    /// <summary>The records of many deliveries of one announcement in one MGET (they share a hash slot).</summary>
    public async Task<DeliveryRecord?[]> GetManyAsync(string announcementId, IReadOnlyList<string> employeeIds)
    {
        var values = await db.StringGetAsync([.. employeeIds.Select(id => RedisKeys.Delivery(announcementId, id))]);
        return [.. values.Select(v => v.IsNull ? null : DeliveryRecord.Parse(v!))];
    }
}
