using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Bot.Core.Redis;

public static class RedisHostingExtensions
{
    public const string ConnectionStringName = "Redis";

    /// <summary>
    /// One shared <see cref="IConnectionMultiplexer"/> for the process, from <c>ConnectionStrings:Redis</c>; the
    /// <see cref="IDatabase"/> the stores use: the default one, under <c>Redis:KeyPrefix</c> when that is set; and a
    /// start-up check that this Redis is durable (see <see cref="RedisDurabilityCheck"/>).
    /// </summary>
    public static IHostApplicationBuilder AddRedis(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
            ConnectionMultiplexer.Connect(ParseConnectionString(sp.GetRequiredService<IConfiguration>())));
        builder.Services.AddSingleton(sp => new RedisKeyspace(sp.GetRequiredService<IConfiguration>()[RedisKeyspace.ConfigurationKey] ?? ""));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<RedisKeyspace>().Database(sp.GetRequiredService<IConnectionMultiplexer>()));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<RedisDurabilityCheck>();
        return builder;
    }

    public static ConfigurationOptions ParseConnectionString(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(value)) value = "localhost:6379";
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(value);
        }
        catch (Exception ex) when (ex is ArgumentException or RedisConnectionException)
        {
            throw new InvalidOperationException($"ConnectionStrings:Redis is not a valid StackExchange.Redis configuration: {ex.Message}");
        }
        // Start even while Redis is down: readiness reports it, and the multiplexer reconnects by itself.
        // With serviceName=… the endpoints are Sentinels: Connect asks them for the primary and follows its failovers
        // (+switch-master), so every user of this connection — stores, RedLock, the durability check — goes along.
        options.AbortOnConnectFail = false;
        // Exceptions are logged, and some key names hold a phone number (wa:{+1650…}:owners): a timeout's message
        // would otherwise name the command's key.
        options.IncludeDetailInExceptions = false;
        return options;
    }
}
