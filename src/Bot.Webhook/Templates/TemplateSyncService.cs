using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Templates;

/// <summary>
/// Syncs every sender that has a WABA id at start and every <see cref="TemplatesOptions.SyncInterval"/>. Each webhook
/// replica runs it: a sync is an idempotent replace, so two replicas syncing at once only cost Graph a few reads.
/// </summary>
public sealed partial class TemplateSyncService(
    TemplateSync sync, SenderDirectory senders, IOptions<TemplatesOptions> options, TimeProvider time, ILogger<TemplateSyncService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SyncInterval, time);
        do
        {
            await SyncAllAsync(stoppingToken);
        }
        while (await Tick(timer, stoppingToken));
    }

    /// <returns>Variants per sender synced (senders without a WABA id left out); a sender that failed is logged and skipped.</returns>
    public async Task<Dictionary<string, int>> SyncAllAsync(CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var sender in senders.All.Where(s => s.WabaId is not null))
        {
            try
            {
                if (await sync.SyncAsync(sender, cancellationToken) is { } count) counts[sender.Id] = count;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The last catalog stays: checks and sends go on with it, and the next tick tries again.
                LogSyncFailed(ex, sender.Id);
            }
        }

        return counts;
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Template catalog of sender {Sender} could not be synced; the last one stays")]
    private partial void LogSyncFailed(Exception ex, string sender);
}
