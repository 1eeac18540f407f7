using Bot.Core.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RedLockNet;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// The RedLock that lets one replica dispatch while the others stand by. Its Redis instances are
/// <c>Redis:LockEndpoints</c> when set (independent instances: the lock needs a majority of them), else the
/// main connection.
/// </summary>
public sealed class DispatcherLock : IDisposable
{
    public const string Resource = "announcements:dispatcher:lock";

    private readonly RedLockFactory factory;
    private readonly string resource;
    private readonly List<ConnectionMultiplexer> owned = [];

    public DispatcherLock(IConnectionMultiplexer main, RedisKeyspace keyspace, IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        resource = keyspace.Name(Resource);
        var endpoints = configuration.GetSection("Redis:LockEndpoints").Get<string[]>() ?? [];
        var multiplexers = new List<RedLockMultiplexer>();
        foreach (var endpoint in endpoints.Where(e => !string.IsNullOrWhiteSpace(e)))
        {
            var options = ConfigurationOptions.Parse(endpoint);
            options.AbortOnConnectFail = false;
            // A dead instance must fail at once: queueing the lock command until it times out would make every
            // attempt outlast the lock's validity, so one instance down would stop dispatching altogether.
            options.BacklogPolicy = BacklogPolicy.FailFast;
            var connection = ConnectionMultiplexer.Connect(options);
            owned.Add(connection);
            multiplexers.Add(new RedLockMultiplexer(connection));
        }
        if (multiplexers.Count == 0) multiplexers.Add(new RedLockMultiplexer(main));
        factory = RedLockFactory.Create(multiplexers, loggerFactory);
    }

    /// <summary>Tries for up to <paramref name="wait"/> to take the lock; the result is auto-extended until disposed.</summary>
    public Task<IRedLock> AcquireAsync(TimeSpan expiry, TimeSpan wait, CancellationToken cancellationToken) =>
        factory.CreateLockAsync(resource, expiry, wait, TimeSpan.FromMilliseconds(Math.Clamp(wait.TotalMilliseconds / 4, 50, 500)), cancellationToken);

    public void Dispose()
    {
        factory.Dispose();
        foreach (var connection in owned) connection.Dispose();
    }
}
