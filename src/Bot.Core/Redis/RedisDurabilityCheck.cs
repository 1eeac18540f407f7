using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Bot.Core.Redis;

/// <summary>
/// Checks once, at start-up, that the Redis this host uses keeps what it acknowledges: a delivery claim (SET NX)
/// that is lost in a Redis crash lets a resumed announcement send to that employee again. It warns and goes on —
/// a managed Redis may be durable in ways CONFIG does not show — and never holds up or fails start-up.
/// </summary>
public sealed partial class RedisDurabilityCheck(IConfiguration configuration, TimeProvider time, ILogger<RedisDurabilityCheck> logger)
    : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Redis may be down or still starting; readiness reports that, so this only retries quietly.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await TryCheckAsync()) return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
            {
            }
            try
            {
                await Task.Delay(RetryInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <returns>false while a primary is not connected yet.</returns>
    private async Task<bool> TryCheckAsync()
    {
        // A connection of its own for this one look: CONFIG needs admin mode, which the shared connection has no
        // business enabling (it also allows FLUSHALL and friends).
        var options = RedisHostingExtensions.ParseConnectionString(configuration);
        options.AllowAdmin = true;
        options.AbortOnConnectFail = true;
        options.ClientName = "durability-check";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var primaries = redis.GetServers().Where(s => !s.IsReplica).ToList();
        if (primaries.Count == 0 || primaries.Any(s => !s.IsConnected)) return false;
        foreach (var server in primaries)
        {
            var endpoint = server.EndPoint.ToString() ?? "?";
            Dictionary<string, string> config;
            try
            {
                // "append*" rather than two names, which CONFIG GET takes only from Redis 7.
                config = (await server.ConfigGetAsync("append*")).ToDictionary(p => p.Key, p => p.Value);
            }
            catch (Exception ex) when (ex is RedisServerException or RedisCommandException)
            {
                // CONFIG disabled, renamed or denied by an ACL, as managed services do.
                LogNotChecked(endpoint, ex.Message);
                continue;
            }
            var appendOnly = config.GetValueOrDefault("appendonly", "?");
            var appendFsync = config.GetValueOrDefault("appendfsync", "?");
            if (appendOnly == "yes" && appendFsync == "always") LogDurable(endpoint);
            else LogNotDurable(endpoint, appendOnly, appendFsync);
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis {Endpoint} runs with appendonly {AppendOnly}, appendfsync {AppendFsync}: a Redis crash can lose acknowledged delivery claims, and an announcement resumed after it could send to an employee again. Run Redis with appendonly yes and appendfsync always.")]
    private partial void LogNotDurable(string endpoint, string appendOnly, string appendFsync);

    [LoggerMessage(Level = LogLevel.Information, Message = "Could not check the durability of Redis {Endpoint} (CONFIG GET refused: {Reason}); make sure it runs with appendonly yes and appendfsync always.")]
    private partial void LogNotChecked(string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Redis {Endpoint} runs with appendonly yes, appendfsync always")]
    private partial void LogDurable(string endpoint);
}
