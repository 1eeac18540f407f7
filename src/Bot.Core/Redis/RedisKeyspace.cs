using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace Bot.Core.Redis;

/// <summary>
/// Where this process's keys live. <c>Redis:KeyPrefix</c> (empty by default) puts every key, the wake-up channel
/// and the dispatcher lock under a prefix, so several deployments — or test classes running in parallel — can
/// share one Redis without seeing each other.
/// </summary>
/// <remarks>
/// Keys are prefixed by SE.Redis's <c>WithKeyPrefix</c>, which also prefixes the KEYS[] of every script and the
/// channels it publishes on; it cannot prefix a key a script builds itself, so every script in Redis/Scripts
/// touches only the keys it is given. Subscriptions and RedLock go around the prefixed database and ask here.
/// The prefix goes in front of the key, so it must not contain a brace: Redis Cluster hashes the first <c>{…}</c> of
/// a key, and a brace in the prefix would take over the hash tag of every key (CROSSSLOT errors in the scripts).
/// </remarks>
public sealed class RedisKeyspace(string prefix)
{
    public const string ConfigurationKey = "Redis:KeyPrefix";

    public string Prefix { get; } = prefix.IndexOfAny(['{', '}']) < 0 ? prefix
        : throw new InvalidOperationException($"{ConfigurationKey} must not contain '{{' or '}}' (it would become the Redis Cluster hash tag of every key): '{prefix}'.");

    public IDatabase Database(IConnectionMultiplexer redis) =>
        Prefix.Length == 0 ? redis.GetDatabase() : redis.GetDatabase().WithKeyPrefix(Prefix);

    /// <summary>The channel a prefixed database publishes <paramref name="channel"/> on, to subscribe to.</summary>
    public RedisChannel Channel(RedisChannel channel) =>
        Prefix.Length == 0 ? channel : RedisChannel.Literal(Prefix + channel);

    /// <summary>A name kept outside the prefixed database (a RedLock resource), under the same prefix.</summary>
    public string Name(string name) => Prefix + name;
}
