using StackExchange.Redis;

namespace Bot.Testing;

/// <summary>
/// The one Redis of a test run, as a class fixture so that test classes run in parallel (SE.Redis's tests do the
/// same): started by the first class that asks, stopped when the test process exits. Tests never flush it; each
/// isolates its keys under a prefix of its own (<c>Redis:KeyPrefix</c>).
/// </summary>
public sealed class SharedRedis : ISharedRedis, IAsyncLifetime
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static RedisServer? server;

    public RedisServer Server => server ?? throw new InvalidOperationException("SharedRedis has not been initialized.");

    public IConnectionMultiplexer Connection => Server.Connection;

    public string ConnectionString => Server.ConnectionString;

    /// <summary>A key prefix no other test uses, e.g. for <c>Redis:KeyPrefix</c> and <c>WithKeyPrefix</c>.</summary>
    public static string NewKeyPrefix() => $"t{Guid.NewGuid():N}"[..13] + ":";

    public async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (server is not null) return;
            server = await RedisServer.StartAsync();
            // xunit has no assembly fixture in v2; a redis-server process must not outlive the test run.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.KillNow();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Nothing to do: other classes still use the server.</summary>
    public Task DisposeAsync() => Task.CompletedTask;
}
