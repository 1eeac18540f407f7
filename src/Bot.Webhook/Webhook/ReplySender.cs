using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Bot.Dispatch;
using Bot.Webhook.Observability;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Sends the outbox's replies, <see cref="WebhookOptions.ReplyConcurrency"/> at a time, each through the sender's
/// rate limiter (replies count against the number's cap like announcements do). Replies to one person go one after
/// another in outbox order ("stopped" before "started" for STOP then START). A reply WhatsApp provably did not accept
/// is retried with back-off; an unknown outcome is recorded, never re-sent.
/// </summary>
public sealed partial class ReplySender(
    ReplyOutbox outbox,
    IWhatsAppSender whatsApp,
    SendRateLimiter rateLimiter,
    SenderDirectory senders,
    WebhookMetrics metrics,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<ReplySender> logger) : BackgroundService
{
    /// <summary>The last reply handed out per recipient, until it is settled: the next one to them waits for it.</summary>
    private readonly ConcurrentDictionary<string, Task> lastTo = new();

    /// <summary>
    /// Entries this process is working on. One pending longer than <see cref="WebhookOptions.ClaimAfter"/> (waiting for
    /// a send slot, or retrying with back-off) comes back from the stale claim; it is ours and still going, not a dead
    /// sender's, so it is not handed out again (which would settle it <c>unknown</c>).
    /// </summary>
    private readonly ConcurrentDictionary<RedisValue, byte> working = new();

    /// <summary>A reply to send once <paramref name="Previous"/> (the one before it to the same person) is settled.</summary>
    private sealed record Queued(Reply Reply, Task Previous, TaskCompletionSource Settled);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.ProcessInbox) return;
        // Replies already taken from the outbox are finished on shutdown (their records say 'sending'); the
        // enumeration stops handing out new ones. Entries are handed out in order, so the reply a worker waits for
        // is always with another worker already: no worker waits on one nobody has.
        await using var replies = InOrderPerRecipient(settings, stoppingToken).GetAsyncEnumerator(stoppingToken);
        try
        {
            // The process's first request pays for the connection and JIT: sent alone, so the replies permitted after
            // it do not pile up behind it and reach WhatsApp together, over the number's cap.
            if (!await replies.MoveNextAsync()) return;
            await HandleAsync(replies.Current, settings);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await Parallel.ForEachAsync(Rest(replies), new ParallelOptions { MaxDegreeOfParallelism = settings.ReplyConcurrency },
            (queued, _) => new ValueTask(HandleAsync(queued, settings)));
    }

    private async Task HandleAsync(Queued queued, WebhookOptions settings)
    {
        try
        {
            await queued.Previous;
            await SendAsync(queued.Reply, settings);
        }
        finally
        {
            working.TryRemove(queued.Reply.EntryId, out _);
            queued.Settled.SetResult();
            lastTo.TryRemove(KeyValuePair.Create(queued.Reply.To, queued.Settled.Task));
        }
    }

    private static async IAsyncEnumerable<T> Rest<T>(IAsyncEnumerator<T> items)
    {
        while (await items.MoveNextAsync()) yield return items.Current;
    }

    private async IAsyncEnumerable<Queued> InOrderPerRecipient(WebhookOptions settings, [EnumeratorCancellation] CancellationToken stoppingToken)
    {
        await foreach (var entry in Pending(settings, stoppingToken))
        {
            var reply = ReplyOutbox.Parse(entry);
            var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var previous = lastTo.TryGetValue(reply.To, out var last) ? last : Task.CompletedTask;
            lastTo[reply.To] = settled.Task;
            yield return new Queued(reply, previous, settled);
        }
    }

    private async IAsyncEnumerable<StreamEntry> Pending(WebhookOptions settings, [EnumeratorCancellation] CancellationToken stoppingToken)
    {
        var queue = outbox.Queue;
        var nextClaim = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            StreamEntry[] entries;
            try
            {
                // Small reads: an entry read is pending on this process, and should not wait long for a free sender.
                entries = await queue.ReadAsync(8);
                if (time.GetUtcNow() >= nextClaim)
                {
                    nextClaim = time.GetUtcNow() + settings.ClaimAfter / 2;
                    entries = [.. await queue.ClaimStaleAsync(settings.ClaimAfter, 64), .. entries];
                }
            }
            catch (RedisException ex)
            {
                LogReadFailed(ex);
                entries = [];
            }
            if (entries.Length == 0)
            {
                try
                {
                    await queue.WaitAsync(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
                continue;
            }
            foreach (var entry in entries)
            {
                if (working.TryAdd(entry.Id, 0)) yield return entry;
            }
        }
    }

    private async Task SendAsync(Reply reply, WebhookOptions settings)
    {
        try
        {
            // The permit comes first and the claim right before the request: a crash while waiting for a permit
            // leaves the reply 'queued' for another sender, instead of 'sending' and so never sent.
            for (var attempt = 1; ; attempt++)
            {
                var sender = senders.Get(reply.SenderId);
                await rateLimiter.AcquireAsync(sender, SendLane.Replies, CancellationToken.None);
                if (attempt == 1 && !await outbox.TryClaimAsync(reply))
                {
                    // Taken before by a sender that died (or is still retrying): it may have been sent.
                    await outbox.SettleAsync(reply, "unknown");
                    metrics.Reply("unknown");
                    return;
                }
                var result = await whatsApp.SendAsync(sender, new TextMessage(reply.To, reply.Body));
                if (result.Outcome == SendOutcome.Retryable && attempt < settings.ReplyAttempts)
                {
                    await Task.Delay(result.RetryDelay(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)), time);
                    continue;
                }
                var (label, record) = result.Outcome switch
                {
                    SendOutcome.Accepted => ("sent", $"sent|{result.MessageId}"),
                    SendOutcome.Unknown => ("unknown", "unknown"),
                    _ => ("failed", $"failed|{result.ErrorCode}"),
                };
                await outbox.SettleAsync(reply, record);
                metrics.Reply(label);
                if (result.Outcome != SendOutcome.Accepted) LogReplyFailed(PhoneMask.Mask(reply.To), result.Outcome, result.ErrorCode);
                return;
            }
        }
        catch (Exception ex)
        {
            // Redis failed around the send: the entry stays pending and is settled 'unknown' when claimed again.
            LogSendFailed(ex, reply.EntryId.ToString());
        }
    }

    [LoggerMessage(LogLevel.Warning, "Reading the reply outbox failed")]
    private partial void LogReadFailed(Exception ex);

    [LoggerMessage(LogLevel.Warning, "Reply to {Phone} not accepted: {Outcome} {Code}")]
    private partial void LogReplyFailed(string phone, SendOutcome outcome, int? code);

    [LoggerMessage(LogLevel.Error, "Reply {EntryId} could not be settled; it will be taken over")]
    private partial void LogSendFailed(Exception ex, string entryId);
}
