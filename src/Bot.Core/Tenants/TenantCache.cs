using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Core.Tenants;

/// <summary>Something that keeps a view of the tenants (the sender directory, the employers' timings).</summary>
public interface ITenantListener
{
    void Apply(TenantState state);
}

/// <summary>
/// This host's copy of the runtime tenants. Every <see cref="TenantOptions.RefreshInterval"/> it reads the version
/// counter (one GET) and reloads everything when it moved, so a change made on any host reaches this one within the
/// interval without a restart; nothing depends on a pub/sub message that may be lost.
/// </summary>
public sealed partial class TenantCache(
    TenantStore store, IEnumerable<ITenantListener> listeners, IOptions<TenantOptions> options, TimeProvider time, ILogger<TenantCache> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private bool loaded;

    public TenantState Current { get; private set; } = TenantState.Empty;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Loaded before the hosts after it start (the dispatcher, Kestrel), so a key issued earlier works on the first request.
        await TryRefreshAsync();
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await TryRefreshAsync();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reloads when the version moved; the host that made a change calls it at once, to read its own write.</summary>
    public async Task RefreshAsync()
    {
        await refreshing.WaitAsync();
        try
        {
            if (loaded && await store.VersionAsync() == Current.Version) return;
            var state = await store.LoadAsync();
            foreach (var listener in listeners) listener.Apply(state);
            Current = state;
            loaded = true;
        }
        finally
        {
            refreshing.Release();
        }
    }

    private async Task TryRefreshAsync()
    {
        try
        {
            await RefreshAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or System.Text.Json.JsonException or System.Security.Cryptography.CryptographicException)
        {
            // Keep the last tenants loaded: Redis being away for a moment must not take numbers or keys away.
            LogRefreshFailed(ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenants not refreshed ({Error}: {Reason}); the last ones loaded stay in use.")]
    private partial void LogRefreshFailed(string error, string reason);
}
