using System.Collections.Concurrent;
using Bot.Core.Events;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Events;

/// <summary>
/// One employer's pass: takes new events off its announcements' outboxes, claims those due and POSTs them (at most
/// <see cref="EventsOptions.MaxConcurrencyPerEndpoint"/> at once), and settles the batch's attempts in one call, each
/// delivered, due again after an exponential back-off with jitter, or failed once <see cref="EventsOptions.RetryFor"/>
/// has passed since its first try.
/// </summary>
public sealed class EventDelivery(EndpointStore endpoints, EventQueue queue, EventSender sender, IOptionsMonitor<EventsOptions> options, TimeProvider time)
{
    private const int TakePerOutbox = 200;

    private const int Rounds = 4;

    /// <summary>Batches sent per read of the outboxes at most, while they go full.</summary>
    private const int BatchesPerRead = 8;

    private readonly string consumer = $"{Environment.MachineName}.{Environment.ProcessId}.{Guid.NewGuid():N}";

    /// <summary>Null when the employer has no endpoint any more (its pump stops), else whether a full batch went or an
    /// outbox was read in full (so more may be due at once).</summary>
    public async Task<bool?> RunOnceAsync(string employerId, CancellationToken cancellationToken)
    {
        if (await endpoints.GetAsync(employerId) is not { } endpoint) return null;
        var settings = options.CurrentValue;
        var outboxes = await endpoints.OutboxesAsync(employerId, time.GetUtcNow() - settings.WatchOutboxesFor);
        var read = await queue.ReadOutboxesAsync(outboxes, consumer, settings.ClaimTimeout, TakePerOutbox);
        // An outbox read in full may hold more: the pump comes back at once rather than after the poll interval.
        var outboxFull = read.Any(r => r?.Length >= TakePerOutbox);
        for (var i = 0; i < outboxes.Length; i++)
        {
            if (read[i] is not { } entries) await endpoints.ForgetOutboxAsync(employerId, outboxes[i]);
            else await queue.TakeAsync(employerId, outboxes[i], entries, time.GetUtcNow(), endpoint.Wants);
        }

        // While batches go full, up to BatchesPerRead of them per read of the outboxes, so the reads and the index walk
        // are paid once per that many events rather than per batch; but never longer than the poll interval, so a slow
        // endpoint's outboxes are read as often as before.
        var readAt = time.GetUtcNow();
        for (var round = 1; ; round++)
        {
            var full = await SendDueAsync(employerId, endpoint, settings, cancellationToken);
            if (!full || round == BatchesPerRead || time.GetUtcNow() - readAt >= settings.PollInterval || cancellationToken.IsCancellationRequested)
                return full || outboxFull;
            // The endpoint again before each batch, as before each read: a new URL or a rotated secret applies from the next batch.
            if (await endpoints.GetAsync(employerId) is not { } current) return null;
            (endpoint, settings) = (current, options.CurrentValue);
        }
    }

    /// <summary>Claims a batch of due events, POSTs them and settles their attempts; whether the batch was full.</summary>
    private async Task<bool> SendDueAsync(string employerId, EventEndpoint endpoint, EventsOptions settings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // The claim outlasts the batch even when every POST takes the whole timeout (it goes in `Rounds` waves of
        // MaxConcurrencyPerEndpoint); a host that dies holding it leaves the events due once it runs out.
        var batch = settings.MaxConcurrencyPerEndpoint * Rounds;
        var claimUntil = now + settings.Timeout * (Rounds + 1) + TimeSpan.FromSeconds(5);
        var due = await queue.ClaimDueAsync(employerId, now, claimUntil, batch);
        if (due.Count == 0) return false;
        // The batch's attempts are settled together, in one script call once its last POST ended (well inside the claim):
        // a host killed before that leaves them claimed, and they are POSTed again, with the same ids, once it runs out.
        var settlements = new ConcurrentQueue<EventSettlement>();
        try
        {
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = settings.MaxConcurrencyPerEndpoint, CancellationToken = cancellationToken },
                async (e, ct) => settlements.Enqueue(await AttemptAsync(endpoint, e, settings, ct)));
        }
        finally
        {
            // Also when stopping: what was POSTed is recorded, so it is not POSTed again.
            await queue.SettleAsync(employerId, settlements, claimUntil);
        }
        return due.Count == batch;
    }

    private async Task<EventSettlement> AttemptAsync(EventEndpoint endpoint, OutgoingEvent e, EventsOptions settings, CancellationToken ct)
    {
        var (statusCode, error) = await sender.SendAsync(endpoint, e, ct);
        var now = time.GetUtcNow();
        var first = e.FirstTriedAt ?? now;
        var after = e with { Attempts = e.Attempts + 1, FirstTriedAt = first, LastStatusCode = statusCode, LastError = error };
        var (outcome, next) = error is null ? (AttemptOutcome.Delivered, now)
            : now - first >= settings.RetryFor ? (AttemptOutcome.Failed, now)
            : (AttemptOutcome.Retrying, Min(now + BackOff(after.Attempts, settings), first + settings.RetryFor));
        var attempt = new EventAttempt(e.Id, e.Type, now, after.Attempts, statusCode, error, outcome.Name());
        return new EventSettlement(after, attempt, outcome, next);
    }

    /// <summary>First delay, doubled per attempt, capped; each scaled by a random 50–100 % so events that failed together
    /// (an endpoint that was down) do not all come back in the same instant.</summary>
    public static TimeSpan BackOff(int attempts, EventsOptions settings)
    {
        var exponential = settings.FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30));
        var capped = Math.Min(exponential, settings.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
