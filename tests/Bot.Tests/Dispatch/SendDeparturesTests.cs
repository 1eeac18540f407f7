using Bot.Dispatch;

namespace Bot.Tests.Dispatch;

/// <summary><see cref="SendDepartures"/> in milliseconds: 20 ms of tolerance, the quickest of the last half second to a second.</summary>
public sealed class SendDeparturesTests
{
    private readonly SendDepartures departures = new(tolerance: 20, period: 500);

    /// <summary>A request leaving at <paramref name="now"/>, <paramref name="late"/> ms after its slot.</summary>
    private bool Leaves(long now, long late) => departures.OnTime(now - late, now);

    [Fact]
    public void ARequestHeldUpLongerThanTheOthersIsLate()
    {
        // A slot a millisecond, each request 2 ms after its own.
        for (var t = 0; t < 100; t++) Assert.True(Leaves(t, 2));

        // A 60 ms Redis stall: the claims of the next 60 slots all come back at t = 160 and would leave together.
        var burst = Enumerable.Range(0, 60).Select(i => Leaves(160, 160 - (100 + i))).ToArray();

        // Those more than 20 ms behind the usual 2 ms wait for later slots; the last ones were on time.
        Assert.Equal(Enumerable.Range(0, 60).Select(i => 160 - (100 + i) - 2 <= 20), burst);
        Assert.Equal(38, burst.Count(onTime => !onTime));
        Assert.True(Leaves(161, 2));
    }

    [Fact]
    public void AClaimThatAlwaysTakesLongDelaysEveryRequestAlikeAndNoneIsLate()
    {
        // A replica's WAIT or a slow disk: every request 45 ms after its slot, for three seconds.
        for (var t = 0; t < 3_000; t++) Assert.True(Leaves(t, 45));
    }

    [Fact]
    public void WhenEveryRequestBecomesSlowerTheyLeaveOnTimeAgainWithinASecond()
    {
        for (var t = 0; t < 1_000; t++) Assert.True(Leaves(t, 2));

        // From t = 1,000 on, every claim takes 40 ms: late against the 2 ms seen in the last second, then the new normal.
        var after = Enumerable.Range(1_000, 2_000).Select(t => (t, OnTime: Leaves(t, 40))).ToArray();

        Assert.False(after[0].OnTime);
        var firstOnTime = after.First(a => a.OnTime).t;
        Assert.InRange(firstOnTime, 1_000, 2_000);
        Assert.All(after.Where(a => a.t >= firstOnTime), a => Assert.True(a.OnTime));
    }
}
