using Bot.Core.Redis;
using Bot.Dispatch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bot.Tests.Dispatch;

/// <summary><see cref="DispatcherLock"/> against real Redis.</summary>
public sealed class DispatcherLockTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task EachSenderLockedKeepsAPoolThreadReadyForItsSynchronousRenewal()
    {
        using var locks = new DispatcherLock(redis.Connection, new RedisKeyspace(SharedRedis.NewKeyPrefix()),
            new ConfigurationBuilder().Build(), NullLoggerFactory.Instance);
        var senders = Enumerable.Range(1, 12).Select(i => $"s{i}").ToArray();

        var held = await Task.WhenAll(senders.Select(s => locks.TryAcquireAsync(s, TimeSpan.FromSeconds(10))));
        // Asked for again, a held sender's lock is refused and adds nothing.
        using var refused = await locks.TryAcquireAsync(senders[0], TimeSpan.FromSeconds(10));

        Assert.All(held, l => Assert.True(l.IsAcquired));
        Assert.False(refused.IsAcquired);
        ThreadPool.GetMinThreads(out var workers, out _);
        Assert.True(workers >= Environment.ProcessorCount + senders.Length,
            $"the pool keeps {workers} threads; {senders.Length} locks renew synchronously beside {Environment.ProcessorCount} cores");
        foreach (var l in held) l.Dispose();
    }
}
