using StackExchange.Redis;

namespace Bot.Testing;

/// <summary>
/// The one Redis Cluster of a test run (see <see cref="RedisCluster"/>), shared like <see cref="SharedRedis"/>: started
/// by the first class that asks, stopped when the test process exits; tests isolate their keys under a prefix.
/// </summary>
public sealed class SharedRedisCluster : ISharedRedis, IAsyncLifetime
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static RedisCluster? cluster;

    public RedisCluster Cluster => cluster ?? throw new InvalidOperationException("SharedRedisCluster has not been initialized.");

    public IConnectionMultiplexer Connection => Cluster.Connection;

    public string ConnectionString => Cluster.ConnectionString;

    public async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (cluster is not null) return;
            // xunit has no assembly fixture in v2: never disposed, the nodes go with the test process (TiedProcess).
            cluster = await RedisCluster.StartAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Nothing to do: other classes still use the cluster.</summary>
    public Task DisposeAsync() => Task.CompletedTask;
}
