using StackExchange.Redis;

namespace Bot.Tests.Infrastructure;

public sealed class RedisServerTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task Set_then_get_round_trips()
    {
        var db = redis.Connection.GetDatabase();
        var key = $"test:redis-server:{Guid.NewGuid():N}";

        Assert.True(await db.StringSetAsync(key, "hello", TimeSpan.FromMinutes(1)));
        Assert.Equal("hello", (string?)await db.StringGetAsync(key));
    }

    [Fact]
    public async Task Server_is_redis_7_or_later()
    {
        var server = redis.Connection.GetServer(redis.Connection.GetEndPoints().Single());
        var info = await server.InfoAsync("server");

        var version = info.SelectMany(section => section).Single(pair => pair.Key == "redis_version").Value;
        Assert.True(Version.Parse(version).Major >= 7, $"redis_version {version} ({redis.Server.Kind}) is older than 7");
    }

    [Fact]
    public async Task Own_instance_can_be_killed_and_restarted_keeping_its_aof()
    {
        await using var own = await RedisServer.StartAsync("--appendonly yes --appendfsync always");
        Assert.NotEqual(redis.Server.Port, own.Port);
        var db = own.Connection.GetDatabase();
        await db.StringSetAsync("survives", "restart");

        if (own.Kind == RedisServer.KindTestcontainers)
        {
            await Assert.ThrowsAsync<NotSupportedException>(own.KillAsync);
            return;
        }

        await own.KillAsync();
        await Assert.ThrowsAsync<RedisConnectionException>(
            () => ConnectionMultiplexer.ConnectAsync($"{own.ConnectionString},connectTimeout=1000,abortConnect=true"));

        await own.RestartAsync();
        var value = await Eventually.WaitAsync(
            async () =>
            {
                try
                {
                    return (string?)await db.StringGetAsync("survives");
                }
                catch (RedisException)
                {
                    return null;
                }
            },
            v => v is not null,
            TimeSpan.FromSeconds(5),
            "the shared multiplexer to reconnect after the restart");
        Assert.Equal("restart", value);
    }
}
