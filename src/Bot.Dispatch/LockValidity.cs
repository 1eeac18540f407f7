using RedLockNet;

namespace Bot.Dispatch;

/// <summary>
/// Whether a held RedLock can still be trusted. <see cref="IRedLock.IsAcquired"/> turns false only once an
/// extension has come back refused; while the lock's Redis stalls, the extension hangs and the lock expires
/// in Redis with IsAcquired still true. So the lock also counts as lost when no extension has succeeded
/// within its expiry (less a margin for clock drift), measured from when this process last saw one.
/// </summary>
public sealed class LockValidity(IRedLock held, TimeSpan expiry, TimeProvider time)
{
    private readonly Lock gate = new();
    private readonly TimeSpan trusted = expiry * 0.9;
    private int extendCount = held.ExtendCount;
    private DateTimeOffset validUntil = time.GetUtcNow() + expiry * 0.9;

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
