using Bot.Webhook.Observability;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Works off the inbox: statuses are applied, employees' messages answered (through the outbox). At least once:
/// an entry is completed only after its effects are stored, and every effect is idempotent (statuses only move
/// forward, a message is marked done after its effect, a reply is queued once per inbound message), so an entry
/// processed twice — its consumer died, or Meta posted the same events again — changes nothing the second time.
/// Any number of replicas run this; the consumer group hands each entry to one of them.
/// </summary>
public sealed partial class InboxWorker(
    WebhookInbox inbox,
    ReplyOutbox outbox,
    StatusUpdates statusUpdates,
    BotConversation conversation,
    Templates.TemplateChanges templateChanges,
    SenderDirectory senders,
    WebhookMetrics metrics,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<InboxWorker> logger) : BackgroundService
{
    private const int BatchSize = 16;
    private static readonly TimeSpan StatsInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.ProcessInbox) return;
        var queue = inbox.Queue;
        var nextClaim = DateTimeOffset.MinValue;
        var nextStats = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow();
                if (now >= nextStats)
                {
                    nextStats = now + StatsInterval;
                    metrics.ObserveQueues(await queue.StatsAsync(), await outbox.Queue.StatsAsync());
                }
                var entries = await queue.ReadAsync(BatchSize);
                if (now >= nextClaim)
                {
                    nextClaim = now + settings.ClaimAfter / 2;
                    entries = [.. await ClaimStaleAsync(settings), .. entries];
                }
                if (entries.Length == 0)
                {
                    await queue.WaitAsync(settings.PollInterval, stoppingToken);
                    continue;
                }
                // One entry after another, in arrival order: a STOP and the START after it come in separate POSTs.
                foreach (var entry in entries) await ProcessAsync(entry);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogLoopFailed(ex);
                await Task.Delay(settings.PollInterval, time, stoppingToken);
            }
        }
    }

    /// <summary>Entries a dead (or stuck) consumer left pending; one that keeps failing is set aside, not retried forever.</summary>
    private async Task<StreamEntry[]> ClaimStaleAsync(WebhookOptions settings)
    {
        var claimed = await inbox.Queue.ClaimStaleAsync(settings.ClaimAfter, BatchSize);
        var work = new List<StreamEntry>(claimed.Length);
        foreach (var entry in claimed)
        {
            if (await inbox.Queue.DeliveryCountAsync(entry.Id) > settings.MaxAttempts)
            {
                await inbox.DeadLetterAsync(entry, settings.DeadLetterMax);
                LogDeadLettered(entry.Id.ToString(), settings.MaxAttempts);
            }
            else
            {
                work.Add(entry);
            }
        }
        return [.. work];
    }

    private async Task ProcessAsync(StreamEntry entry)
    {
        try
        {
            var body = WebhookInbox.BodyOf(entry);
            var payload = WebhookPayload.Parse(body.Span);
            // Each change is about one of our numbers; a number not configured here is not ours to act on.
            foreach (var value in payload.Values)
            {
                if (senders.FindByPhoneNumberId(value.Metadata?.PhoneNumberId) is not { } sender)
                {
                    ReportUnknownNumber(value.Metadata?.PhoneNumberId);
                    continue;
                }
                await statusUpdates.ApplyAsync(sender.Id, [.. (value.Statuses ?? []).OfType<WebhookStatus>()]);
                await conversation.HandleAsync(sender, [.. (value.Messages ?? []).OfType<WebhookMessage>()], [.. (value.Contacts ?? []).OfType<WebhookContact>()]);
            }
            // Template status, quality and category changes: about a WABA, not a number, so outside the loop above.
            await templateChanges.ApplyAsync(Templates.TemplateChange.Parse(body.Span));
            await inbox.Queue.CompleteAsync(entry.Id);
        }
        catch (Exception ex)
        {
            // Left pending: it is claimed again after ClaimAfter (by this replica or another) and processed again.
            LogEntryFailed(ex, entry.Id.ToString());
        }
    }

    /// <summary>Once per phone number id per hour: a misrouted webhook subscription should be seen, not flood the log.</summary>
    private void ReportUnknownNumber(string? phoneNumberId)
    {
        var id = phoneNumberId is { Length: <= 32 } ? phoneNumberId : "(missing)";
        if (unknownNumbers.ShouldReport(id)) LogUnknownNumber(id);
    }

    private readonly HourlyReport unknownNumbers = new(time);

    [LoggerMessage(LogLevel.Warning, "Webhook for phone number id {PhoneNumberId}, which no sender is configured with: ignored (check Senders:<id>:PhoneNumberId)")]
    private partial void LogUnknownNumber(string phoneNumberId);

    [LoggerMessage(LogLevel.Error, "Inbox worker loop failed; retrying")]
    private partial void LogLoopFailed(Exception ex);

    [LoggerMessage(LogLevel.Warning, "Inbox entry {EntryId} failed; it will be retried")]
    private partial void LogEntryFailed(Exception ex, string entryId);

    [LoggerMessage(LogLevel.Error, "Inbox entry {EntryId} failed {Attempts} times; moved to webhook:{{inbox}}:dead")]
    private partial void LogDeadLettered(string entryId, int attempts);
}
