using System.Threading.RateLimiting;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;

namespace Bot.Scheduler;

/// <summary>
/// Caps sends at <c>WhatsApp:MessagesPerSecond</c> for the whole process (the limit is per business number).
/// Tokens are refilled in steps of about 10 ms into a bucket that holds one step, so any one-second window
/// holds at most rate + one step of sends, and there is no burst after an idle spell.
/// </summary>
public sealed class SendRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter limiter;

    public SendRateLimiter(IOptions<WhatsAppOptions> options)
    {
        var rate = options.Value.MessagesPerSecond;
        var step = Math.Max(1, rate / 100);
        limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = step,
            TokensPerPeriod = step,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)step / rate),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public ValueTask<RateLimitLease> AcquireAsync(CancellationToken cancellationToken) =>
        limiter.AcquireAsync(1, cancellationToken);

    public void Dispose() => limiter.Dispose();
}
