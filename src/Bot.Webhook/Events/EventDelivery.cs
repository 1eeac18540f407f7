using Bot.Core.Events;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Events;

/// <summary>
/// One employer's pass: takes new events off its announcements' outboxes, claims those due and POSTs them (at most
/// <see cref="EventsOptions.MaxConcurrencyPerEndpoint"/> at once), and settles each attempt: delivered, due again after
/// an exponential back-off with jitter, or failed once <see cref="EventsOptions.RetryFor"/> has passed since its first try.
/// </summary>
public sealed class EventDelivery(EndpointStore endpoints, EventQueue queue, EventSender sender, IOptionsMonitor<EventsOptions> options, TimeProvider time)
{
    private const int TakePerOutbox = 200;

    private const int Rounds = 4;

    private readonly string consumer = $"{Environment.MachineName}.{Environment.ProcessId}.{Guid.NewGuid():N}";

    /// <summary>Null when the employer has no endpoint any more (its pump stops), else whether a full batch went (so more
    /// may be due at once).</summary>
    public async Task<bool?> RunOnceAsync(string employerId, CancellationToken cancellationToken)
    {
        if (await endpoints.GetAsync(employerId) is not { } endpoint) return null;
        var settings = options.CurrentValue;
        var outboxes = await endpoints.OutboxesAsync(employerId, time.GetUtcNow() - settings.WatchOutboxesFor);
        var read = await queue.ReadOutboxesAsync(outboxes, consumer, settings.ClaimTimeout, TakePerOutbox);
        for (var i = 0; i < outboxes.Length; i++)
        {
            if (read[i] is not { } entries) await endpoints.ForgetOutboxAsync(employerId, outboxes[i]);
            else await queue.TakeAsync(employerId, outboxes[i], entries, time.GetUtcNow(), endpoint.Wants);
        }

        var now = time.GetUtcNow();
        // The claim outlasts the batch even when every POST takes the whole timeout (it goes in `Rounds` waves of
        // MaxConcurrencyPerEndpoint); a host that dies holding it leaves the events due once it runs out.
        var batch = settings.MaxConcurrencyPerEndpoint * Rounds;
        var claimUntil = now + settings.Timeout * (Rounds + 1) + TimeSpan.FromSeconds(5);
        var due = await queue.ClaimDueAsync(employerId, now, claimUntil, batch);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = settings.MaxConcurrencyPerEndpoint, CancellationToken = cancellationToken },
            async (e, ct) => await AttemptAsync(employerId, endpoint, e, claimUntil, settings, ct));
        return due.Count == batch;
    }

    private async Task AttemptAsync(string employerId, EventEndpoint endpoint, OutgoingEvent e, DateTimeOffset claimUntil, EventsOptions settings, CancellationToken ct)
    {
        var (statusCode, error) = await sender.SendAsync(endpoint, e, ct);
        var now = time.GetUtcNow();
        var first = e.FirstTriedAt ?? now;
        var after = e with { Attempts = e.Attempts + 1, FirstTriedAt = first, LastStatusCode = statusCode, LastError = error };
        var (outcome, next) = error is null ? (AttemptOutcome.Delivered, now)
            : now - first >= settings.RetryFor ? (AttemptOutcome.Failed, now)
            : (AttemptOutcome.Retrying, Min(now + BackOff(after.Attempts, settings), first + settings.RetryFor));
        var attempt = new EventAttempt(e.Id, e.Type, now, after.Attempts, statusCode, error, outcome.ToString().ToLowerInvariant());
        await queue.SettleAsync(employerId, after, attempt, outcome, next, claimUntil);
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
