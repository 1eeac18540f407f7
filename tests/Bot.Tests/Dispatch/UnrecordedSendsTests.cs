using Bot.Dispatch;

namespace Bot.Tests.Dispatch;

/// <summary>
/// A pass's places for sends whose outcome is not yet written: a request leaves only with a place, so however the
/// outcomes' writes lag, at most that many deliveries are ever sent but unrecorded (what a crash leaves).
/// </summary>
public sealed class UnrecordedSendsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ARequestWaitsForAPlaceWhileTheOutcomesBeforeItAreUnwritten()
    {
        using var line = new CancellationTokenSource();
        var unrecorded = new UnrecordedSends(2, line);
        var (claims, givenBack) = (0, 0);
        SendClaim Claim() => unrecorded.Around(new SendClaim(
            () => Task.FromResult(Interlocked.Increment(ref claims) > 0),
            () => Task.FromResult(Interlocked.Increment(ref givenBack) > 0)));
        var (a, b, c) = (Claim(), Claim(), Claim());
        Assert.True(await a.TakeAsync());
        Assert.True(await b.TakeAsync());
        var writeOfA = new TaskCompletionSource();
        unrecorded.Recording(writeOfA.Task);

        // The third claim is taken meanwhile (with the write in flight), but its request may not leave yet.
        var third = c.TakeAsync();
        Assert.Equal(3, claims);
        Assert.False(third.IsCompleted);
        writeOfA.SetResult();
        Assert.True(await third.WaitAsync(Deadline));

        // A claim given back frees its place at once; the pass ends once the last outcome is written.
        await b.GiveBackAsync();
        Assert.Equal(1, givenBack);
        var drained = unrecorded.DrainAsync();
        Assert.False(drained.IsCompleted);
        unrecorded.Recording(Task.CompletedTask);
        await drained.WaitAsync(Deadline);
    }

    [Fact]
    public async Task AClaimThatCannotBeGivenBackKeepsItsPlaceUntilItsOutcomeIsWritten()
    {
        using var line = new CancellationTokenSource();
        var unrecorded = new UnrecordedSends(1, line);
        var settledElsewhere = unrecorded.Around(new SendClaim(() => Task.FromResult(true), () => Task.FromResult(false)));
        Assert.True(await settledElsewhere.TakeAsync());

        // Another pass settled it meanwhile: its send goes on to a record, and the next claim waits for that record.
        Assert.False(await settledElsewhere.GiveBackAsync());
        var next = unrecorded.Around(new SendClaim(() => Task.FromResult(true), () => Task.FromResult(true))).TakeAsync();
        Assert.False(next.IsCompleted);
        unrecorded.Recording(Task.CompletedTask);
        Assert.True(await next.WaitAsync(Deadline));
    }

    [Fact]
    public async Task ARefusedClaimHoldsNoPlace()
    {
        using var line = new CancellationTokenSource();
        var unrecorded = new UnrecordedSends(1, line);

        Assert.False(await unrecorded.Around(new SendClaim(() => Task.FromResult(false), () => Task.FromResult(true))).TakeAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            unrecorded.Around(new SendClaim(() => throw new InvalidOperationException("Redis down"), () => Task.FromResult(true))).TakeAsync());

        Assert.True(await unrecorded.Around(new SendClaim(() => Task.FromResult(true), () => Task.FromResult(true))).TakeAsync().WaitAsync(Deadline));
    }

    [Fact]
    public async Task AnOutcomeThatCannotBeWrittenStopsThePassAndIsThrownOnceTheRestAreIn()
    {
        using var line = new CancellationTokenSource();
        var unrecorded = new UnrecordedSends(4, line);
        foreach (var _ in Enumerable.Range(0, 2))
            Assert.True(await unrecorded.Around(new SendClaim(() => Task.FromResult(true), () => Task.FromResult(true))).TakeAsync());
        var slow = new TaskCompletionSource();
        unrecorded.Recording(slow.Task);

        unrecorded.Recording(Task.FromException(new InvalidOperationException("Redis down")));

        Assert.True(line.IsCancellationRequested);
        var drained = unrecorded.DrainAsync();
        Assert.False(drained.IsCompleted);
        slow.SetResult();
        Assert.Equal("Redis down", (await Assert.ThrowsAsync<InvalidOperationException>(() => drained.WaitAsync(Deadline))).Message);
    }
}
