using StackExchange.Redis;

namespace Bot.Testing;

/// <summary>
/// The Redis a test class shares with the others: one server (<see cref="SharedRedis"/>) or a three-master cluster
/// (<see cref="SharedRedisCluster"/>). Tests written against this run on both, as production may.
/// </summary>
public interface ISharedRedis
{
    IConnectionMultiplexer Connection { get; }

    /// <summary>What a host gets as <c>ConnectionStrings:Redis</c>.</summary>
    string ConnectionString { get; }
}
