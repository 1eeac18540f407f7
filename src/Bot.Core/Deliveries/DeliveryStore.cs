using Bot.Core.Redis;
using StackExchange.Redis;

namespace Bot.Core.Deliveries;

/// <summary>What a dispatcher asks for when it claims one delivery.</summary>
public readonly record struct DeliveryClaim(string EmployeeId, DeliveryRecord Record);

public sealed class DeliveryStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// SET NX of each delivery key, pipelined. Returns, per claim, null when this caller created the key
    /// (and so alone may send), else the record that was already there.
    /// </summary>
    public async Task<DeliveryRecord?[]> ClaimAsync(string announcementId, IReadOnlyList<DeliveryClaim> claims, TimeSpan retention)
    {
        var ttl = (long)retention.TotalSeconds;
        var batch = Db.CreateBatch();
        var calls = claims.Select(c => batch.ScriptEvaluateAsync(LuaScripts.ClaimDelivery,
            [RedisKeys.Delivery(announcementId, c.EmployeeId), RedisKeys.Announcement(announcementId)],
            [c.Record.ToString(), ttl, DeliveryRecord.Counter(c.Record.State) ?? ""])).ToArray();
        batch.Execute();
        var results = await Task.WhenAll(calls);
        return [.. results.Select(r => r.IsNull ? null : DeliveryRecord.Parse((string)r!))];
    }

    /// <summary>Moves a delivery forward (never backwards); false when the move is not allowed or
    /// <paramref name="expected"/> no longer holds.</summary>
    public async Task<bool> TransitionAsync(string announcementId, string employeeId, DeliveryRecord next, DeliveryRecord? expected = null)
    {
        var applied = await Db.ScriptEvaluateAsync(LuaScripts.TransitionDelivery,
            [RedisKeys.Delivery(announcementId, employeeId), RedisKeys.Announcement(announcementId)],
            [next.ToString(), expected?.ToString() ?? ""]);
        return (int)applied == 1;
    }

    /// <summary>Deletes this caller's own claim, for a send known not to have gone out.</summary>
    public async Task ReleaseAsync(string announcementId, string employeeId, DeliveryRecord claim) =>
        await Db.ScriptEvaluateAsync(LuaScripts.ReleaseDelivery,
            [RedisKeys.Delivery(announcementId, employeeId)], [claim.ToString()]);

    public async Task<DeliveryRecord?> GetAsync(string announcementId, string employeeId)
    {
        var value = await Db.StringGetAsync(RedisKeys.Delivery(announcementId, employeeId));
        return value.IsNull ? null : DeliveryRecord.Parse(value!);
    }

    /// <summary>The records of many deliveries of one announcement in one MGET (they share a hash slot).</summary>
    public async Task<DeliveryRecord?[]> GetManyAsync(string announcementId, IReadOnlyList<string> employeeIds)
    {
        var values = await Db.StringGetAsync([.. employeeIds.Select(id => RedisKeys.Delivery(announcementId, id))]);
        return [.. values.Select(v => v.IsNull ? null : DeliveryRecord.Parse(v!))];
    }
}
