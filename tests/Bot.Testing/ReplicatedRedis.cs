using StackExchange.Redis;

namespace Bot.Testing;

/// <summary>
/// A primary with one replica (<see cref="RedisSentinels.StartPrimaryAndReplicaAsync"/>) as a class fixture: the tests
/// of one class share it and may freeze its replica; they isolate their keys under a prefix as with <see cref="SharedRedis"/>.
/// </summary>
public sealed class ReplicatedRedis : ISharedRedis, IAsyncLifetime
{
    private RedisSentinels? deployment;

    public RedisSentinels Deployment => deployment ?? throw new InvalidOperationException("ReplicatedRedis has not been initialized.");

    public IConnectionMultiplexer Connection => Deployment.Connection;

    public string ConnectionString => Deployment.ConnectionString;

    public async Task InitializeAsync() => deployment = await RedisSentinels.StartPrimaryAndReplicaAsync();

    public async Task DisposeAsync()
    {
        if (deployment is not null) await deployment.DisposeAsync();
    }
}
