using Bot.Dispatch;
using Microsoft.Extensions.Time.Testing;
using RedLockNet;

namespace Bot.Tests.Dispatch;

public sealed class LockValidityTests
{
    private static readonly TimeSpan Expiry = TimeSpan.FromSeconds(10);

    [Fact]
    public void TheFirstTermRunsFromWhenTheLockWasAskedForNotFromItsAnswer()
    {
        var time = new FakeTimeProvider();
        var requestedAt = time.GetUtcNow();
        // The answer took 4 s: the lock in Redis has 6 s left, not 10.
        time.Advance(TimeSpan.FromSeconds(4));
        var validity = new LockValidity(new HeldLock(), Expiry, requestedAt, time);

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.True(validity.IsValid());
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.False(validity.IsValid());
    }

    [Fact]
    public void AnExtensionSeenKeepsItValidAndNoneLosesItAfterNinetyPercentOfTheExpiry()
    {
        var time = new FakeTimeProvider();
        var held = new HeldLock();
        var validity = new LockValidity(held, Expiry, time.GetUtcNow(), time);

        time.Advance(TimeSpan.FromSeconds(5));
        held.ExtendCount++;
        Assert.True(validity.IsValid());
        time.Advance(TimeSpan.FromSeconds(8.9));
        Assert.True(validity.IsValid());
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.False(validity.IsValid());
    }

    [Fact]
    public void ARefusedExtensionLosesItAtOnce()
    {
        var time = new FakeTimeProvider();
        var held = new HeldLock();
        var validity = new LockValidity(held, Expiry, time.GetUtcNow(), time);

        held.IsAcquired = false;

        Assert.False(validity.IsValid());
    }

    /// <summary>What LockValidity reads of a RedLock: whether it is held and how many extensions succeeded.</summary>
    private sealed class HeldLock : IRedLock
    {
        public string Resource => "sender:{default}:lock";
        public string LockId => "test";
        public bool IsAcquired { get; set; } = true;
        public RedLockStatus Status => IsAcquired ? RedLockStatus.Acquired : RedLockStatus.Expired;
        public RedLockInstanceSummary InstanceSummary => new();
        public int ExtendCount { get; set; }
        public void Dispose() { }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
