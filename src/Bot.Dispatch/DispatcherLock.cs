using System.Collections.Concurrent;
using Bot.Core.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RedLockNet;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace Bot.Dispatch;

/// <summary>
/// The RedLocks, one per sender, that let one replica dispatch a sender's queue while the others dispatch other
/// senders or stand by. Their Redis instances are <c>Redis:LockEndpoints</c> when set (independent instances: a lock
/// needs a majority of them), else the main connection.
/// </summary>
public sealed class DispatcherLock : IDisposable
{
    private readonly RedLockFactory factory;
    private readonly RedisKeyspace keyspace;
    private readonly List<ConnectionMultiplexer> owned = [];
    private readonly ConcurrentDictionary<string, byte> locked = new();
    private readonly int instances;

    public DispatcherLock(IConnectionMultiplexer main, RedisKeyspace keyspace, IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        this.keyspace = keyspace;
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
        instances = multiplexers.Count;
        factory = RedLockFactory.Create(multiplexers, loggerFactory);
    }

    /// <summary>The RedLock resource of a sender's lock (its Redis key is <c>redlock:</c> and this).</summary>
    public string Resource(string senderId) => keyspace.Name(RedisKeys.DispatchLock(senderId));

    /// <summary>
    /// One attempt at the sender's lock, no retry: the dispatcher tries again at its next tick, perhaps for another
    /// sender. The result is auto-extended until disposed.
    /// </summary>
    public async Task<IRedLock> TryAcquireAsync(string senderId, TimeSpan expiry)
    {
        var result = await factory.CreateLockAsync(Resource(senderId), expiry);
        if (result.IsAcquired && locked.TryAdd(senderId, 0)) KeepThreadsForRenewals(locked.Count * instances);
        return result;
    }

    /// <summary>
    /// RedLock.net renews a held lock every half expiry from a timer, with a synchronous Redis call per instance
    /// (<c>Parallel.ForEach</c>) that blocks a thread-pool thread until Redis answers — and StackExchange.Redis reads
    /// answers on the thread pool too. A dispatcher holding a lock per sender renews them all at once: on a small
    /// machine every pool thread then waits for an answer no thread is left to read, until the pool adds threads, one
    /// every half second or so. Measured on 2 cores with 8 senders, that stopped every send for 0.6–2.3 s every 5–10 s.
    /// So the pool keeps a thread ready for each renewal call this process's locks can make at once (the senders it
    /// has held × the lock's Redis instances) besides its usual minimum (one per core).
    /// </summary>
    private static void KeepThreadsForRenewals(int renewals)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        var needed = Environment.ProcessorCount + renewals;
        if (workers < needed) ThreadPool.SetMinThreads(needed, io);
    }

    public void Dispose()
    {
        factory.Dispose();
        foreach (var connection in owned) connection.Dispose();
    }
}
