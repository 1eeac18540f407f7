using Bot.Core.Redis;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace Bot.Tests.Hosting;

/// <summary>
/// Redis exceptions reach the logs (an inbox entry that failed, an API request while Redis is down), and some key names
/// hold a phone number (<see cref="RedisKeys.PhoneOwners"/>): the hosts' connection leaves key names out of them.
/// </summary>
public sealed class RedisExceptionRedactionTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const string Phone = "+16505557301";

    [Fact]
    public async Task ACommandThatTimesOutDoesNotNameItsKey()
    {
        // A Redis of this test's own, paused: its clients' commands time out, as behind a stalled server or network.
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectAsync($"{server.ConnectionString},asyncTimeout=200");
        var db = connection.GetDatabase();
        await db.PingAsync();
        await server.Connection.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");

        var exception = await Assert.ThrowsAsync<RedisTimeoutException>(() => db.SetMembersAsync(RedisKeys.PhoneOwners(Phone)));

        AssertNoPhone(exception);
    }

    [Fact]
    public async Task AnErrorRedisAnswersDoesNotNameTheKey()
    {
        await using var connection = await ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase().WithKeyPrefix(SharedRedis.NewKeyPrefix());
        var key = RedisKeys.PhoneOwners(Phone);
        await db.StringSetAsync(key, "not a set");

        var exception = await Assert.ThrowsAsync<RedisServerException>(() => db.SetAddAsync(key, "acme:e1"));

        Assert.StartsWith("WRONGTYPE", exception.Message);
        AssertNoPhone(exception);
    }

    /// <summary>A connection configured as the hosts configure theirs.</summary>
    private static Task<ConnectionMultiplexer> ConnectAsync(string connectionString) =>
        ConnectionMultiplexer.ConnectAsync(RedisHostingExtensions.ParseConnectionString(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"ConnectionStrings:{RedisHostingExtensions.ConnectionStringName}"] = connectionString })
            .Build()));

    /// <summary>What a logger writes of an exception: its type, message, inner exceptions and stack.</summary>
    private static void AssertNoPhone(Exception exception)
    {
        var text = exception.ToString();
        Assert.DoesNotContain(Phone, text);
        Assert.DoesNotContain(Phone[1..], text);
    }
}
