using RedLockNet;

namespace Bot.Dispatch;

/// <summary>
/// Whether a held RedLock can still be trusted. <see cref="IRedLock.IsAcquired"/> turns false only once an
/// extension has come back refused; while the lock's Redis stalls, the extension hangs and the lock expires
/// in Redis with IsAcquired still true. So the lock also counts as lost when no extension has succeeded
/// within its expiry (less a margin for clock drift): the first term from when the lock was asked for, each extension's
/// from when this process saw it. (RedLock.net tells only how many extensions succeeded, not when each was sent; the
/// check runs before every claim, so an extension is seen within one send of its answer, and the margin covers an answer
/// that travelled that long. Were it wrong, the delivery claims still let nobody be sent twice.)
/// </summary>
public sealed class LockValidity(IRedLock held, TimeSpan expiry, DateTimeOffset requestedAt, TimeProvider time)
{
    private readonly Lock gate = new();
    private readonly TimeSpan trusted = expiry * 0.9;
    private int extendCount = held.ExtendCount;
    private DateTimeOffset validUntil = requestedAt + expiry * 0.9;

    public bool IsValid()
    {
        if (!held.IsAcquired) return false;
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (held.ExtendCount != extendCount)
            {
                extendCount = held.ExtendCount;
                validUntil = now + trusted;
            }
            return now < validUntil;
        }
    }
}
