using StackExchange.Redis;

namespace Bot.Core.Tenants;

/// <summary>
/// The keys of the tenants made through the operator API. They share the hash tag <c>{tenants}</c>: one script writes a
/// change, its audit entry and the version together. The set is small (numbers, employers, keys) and rarely written, so
/// one slot is no hot spot.
/// </summary>
public static class TenantKeys
{
    /// <summary>STRING counter bumped by every change; each host polls it and reloads the tenants when it moved.</summary>
    public static readonly RedisKey Version = "tenants:{tenants}:version";

    /// <summary>HASH sender id → JSON <see cref="SenderRecord"/> (the token encrypted).</summary>
    public static readonly RedisKey Senders = "tenants:{tenants}:senders";

    /// <summary>HASH portfolio id → JSON <see cref="PortfolioRecord"/>.</summary>
    public static readonly RedisKey Portfolios = "tenants:{tenants}:portfolios";

    /// <summary>HASH employer id → JSON <see cref="EmployerRecord"/>.</summary>
    public static readonly RedisKey Employers = "tenants:{tenants}:employers";

    /// <summary>HASH key id → JSON <see cref="ApiKeyRecord"/> (only the key's SHA-256).</summary>
    public static readonly RedisKey ApiKeys = "tenants:{tenants}:apikeys";

    /// <summary>HASH SHA-256 of an active key → key id: the keyed lookup; a revoked key's entry is removed.</summary>
    public static readonly RedisKey ApiKeyHashes = "tenants:{tenants}:apikeyhashes";

    /// <summary>HASH key id → when it last authenticated a request (unix ms); written apart so it bumps no version.</summary>
    public static readonly RedisKey ApiKeysUsed = "tenants:{tenants}:apikeysused";

    /// <summary>STREAM of every audited change, trimmed to the retention.</summary>
    public static readonly RedisKey Audit = "tenants:{tenants}:audit";

    /// <summary>STREAM of one employer's audited changes (the same entries as <see cref="Audit"/>), for its own reading.</summary>
    public static RedisKey EmployerAudit(string employerId) => $"tenants:{{tenants}}:audit:{employerId}";

    /// <summary>The Data Protection key ring every host shares (its XML elements in a LIST).</summary>
    public static readonly RedisKey DataProtectionKeys = "tenants:{tenants}:dataprotection";
}
