using System.Security.Cryptography;
using System.Text;
using Bot.Core.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Core.Tenants;

/// <summary>One hash field to set (or, with a null value, to delete) in a tenant write.</summary>
public sealed record TenantOp(RedisKey Hash, string Field, string? Value)
{
    /// <summary>Sets <paramref name="field"/> to <paramref name="record"/> as JSON.</summary>
    public static TenantOp Set<T>(RedisKey hash, string field, T record) => new(hash, field, TenantJson.Write(record));
}

/// <summary>What a write is recorded as in the audit trail.</summary>
public sealed record AuditEvent(string Actor, string Action, string Target, string? EmployerId);

/// <summary>The tenants made through the operator API and the audit trail, in Redis (keys in <see cref="TenantKeys"/>).</summary>
public sealed class TenantStore(IDatabase redis, IOptions<TenantOptions> options, TimeProvider time)
{
    /// <summary>Applies <paramref name="ops"/> and appends <paramref name="audit"/> in one step; true when the first op created its field.</summary>
    public async Task<bool> WriteAsync(IReadOnlyList<TenantOp> ops, AuditEvent audit)
    {
        var hashes = ops.Select(o => o.Hash).Distinct().ToList();
        var employerAudit = audit.EmployerId is { Length: > 0 } employerId ? TenantKeys.EmployerAudit(employerId) : TenantKeys.Audit;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var oldest = Math.Max(0, now - (long)options.Value.AuditRetention.TotalMilliseconds);
        var args = new List<RedisValue> { $"{oldest}-0", now, audit.Actor, audit.Action, audit.Target, audit.EmployerId ?? "" };
        foreach (var op in ops)
        {
            args.AddRange([hashes.IndexOf(op.Hash) + 1, op.Value is null ? "del" : "set", op.Field, op.Value ?? ""]);
        }
        var result = await redis.ScriptEvaluateAsync(LuaScripts.TenantWrite,
            [TenantKeys.Version, TenantKeys.Audit, employerAudit, .. hashes], [.. args]);
        return (long)result == 1;
    }

    /// <summary>Appends an audit entry of a change stored elsewhere (an employer's announcement or employee).</summary>
    public Task AuditAsync(AuditEvent audit) => WriteAsync([], audit);

    public async Task<long> VersionAsync() => (long?)await redis.StringGetAsync(TenantKeys.Version) ?? 0;

    /// <summary>Every tenant, with the version read before them (a write in between is loaded again at the next poll).</summary>
    public async Task<TenantState> LoadAsync()
    {
        var version = await VersionAsync();
        var senders = ReadAllAsync<SenderRecord>(TenantKeys.Senders);
        var portfolios = ReadAllAsync<PortfolioRecord>(TenantKeys.Portfolios);
        var employers = ReadAllAsync<EmployerRecord>(TenantKeys.Employers);
        var keys = ReadAllAsync<ApiKeyRecord>(TenantKeys.ApiKeys);
        var active = (await keys).Values.Where(k => k.RevokedAt is null).ToDictionary(k => k.Hash, StringComparer.Ordinal);
        return new TenantState(version, await senders, await portfolios, await employers, await keys, active);
    }

    public async Task<T?> GetAsync<T>(RedisKey hash, string id) where T : class =>
        await redis.HashGetAsync(hash, id) is { IsNull: false } json ? TenantJson.Read<T>(json!) : null;

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> LastUsedAsync() =>
        (await redis.HashGetAllAsync(TenantKeys.ApiKeysUsed)).ToDictionary(e => (string)e.Name!,
            e => DateTimeOffset.FromUnixTimeMilliseconds((long)e.Value), StringComparer.Ordinal);

    /// <summary>Records that a key authenticated a request now; fire and forget, it must not slow the request.</summary>
    public void MarkUsed(string keyId) =>
        redis.HashSet(TenantKeys.ApiKeysUsed, keyId, time.GetUtcNow().ToUnixTimeMilliseconds(), flags: CommandFlags.FireAndForget);

    /// <summary>Newest first: the entries before <paramref name="cursor"/> (a stream id), at most <paramref name="limit"/>, and the next cursor.</summary>
    public async Task<(IReadOnlyList<AuditEntry> Items, string? Next)> ReadAuditAsync(string? employerId, string? cursor, int limit)
    {
        var key = employerId is null ? TenantKeys.Audit : TenantKeys.EmployerAudit(employerId);
        var entries = await redis.StreamRangeAsync(key, "-", cursor is null ? "+" : "(" + cursor, limit + 1, Order.Descending);
        var items = entries.Take(limit).Select(e =>
        {
            var values = e.Values.ToDictionary(v => (string)v.Name!, v => (string?)v.Value, StringComparer.Ordinal);
            return new AuditEntry((string)e.Id!, DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(values["at"]!)), values["actor"]!,
                values["action"]!, values["target"]!, values["employerId"] is { Length: > 0 } id ? id : null);
        }).ToList();
        return (items, entries.Length > limit ? items[^1].Cursor : null);
    }

    /// <summary>A key's lookup value: SHA-256 is enough for a random key of 256 bits (nothing to brute-force), and fast per request.</summary>
    public static string HashKey(string apiKey) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    private async Task<Dictionary<string, T>> ReadAllAsync<T>(RedisKey hash) =>
        (await redis.HashGetAllAsync(hash)).ToDictionary(e => (string)e.Name!, e => TenantJson.Read<T>(e.Value!), StringComparer.Ordinal);
}
