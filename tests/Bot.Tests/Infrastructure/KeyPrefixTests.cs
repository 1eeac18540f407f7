using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Tests.Harness;
using StackExchange.Redis;

namespace Bot.Tests.Infrastructure;

/// <summary>
/// What lets test classes share one Redis: with <c>Redis:KeyPrefix</c> set, every key, the wake-up channel and the
/// dispatcher lock of a deployment live under its prefix, and a second deployment beside it sees none of them.
/// </summary>
public sealed class KeyPrefixTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task TwoDeploymentsOnOneRedisKeepToTheirOwnPrefixes()
    {
        await using var first = new Scenario(redis);
        await using var second = new Scenario(redis);
        await first.AddEmployeesAsync(3);
        await second.AddEmployeesAsync(3);
        await first.StartDispatchersAsync(1);
        await second.StartDispatchersAsync(1);

        var id = await first.CreateAnnouncementAsync(new { message = "Only for the first" });
        await first.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(30));

        Assert.Equal(3, (await first.Stub.WhenSentAsync(3)).Count);
        Assert.Empty(second.Stub.Sends);
        var server = redis.Connection.GetServer(redis.Connection.GetEndPoints()[0]);
        var keys = server.Keys(pattern: $"*{id}*", pageSize: 1000).Select(k => (string)k!).ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.StartsWith(first.KeyPrefix, key));
        // Both dispatchers hold their own lock and listen on their own wake-up channel.
        Assert.True(await server.Multiplexer.GetDatabase().KeyExistsAsync($"redlock:{first.KeyPrefix}{RedisKeys.DispatchLock("default")}"));
        Assert.True(await server.Multiplexer.GetDatabase().KeyExistsAsync($"redlock:{second.KeyPrefix}{RedisKeys.DispatchLock("default")}"));
        foreach (var scenario in new[] { first, second })
        {
            var channel = RedisChannel.Literal(scenario.KeyPrefix + RedisKeys.WakeUp);
            Assert.Equal(1, await server.SubscriptionSubscriberCountAsync(channel));
        }
    }
}
