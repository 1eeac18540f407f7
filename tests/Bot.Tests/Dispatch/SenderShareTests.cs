using Bot.Dispatch;

namespace Bot.Tests.Dispatch;

public sealed class SenderShareTests
{
    private static readonly string[] Senders = ["s1", "s2", "s3", "s4", "s5"];

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    [InlineData(5, 1)]
    [InlineData(8, 1)]
    public void TheShareIsTheSendersOverTheReplicasRoundedUp(int live, int share)
    {
        Assert.Equal(share, SenderShare.Plan(Senders, live, [], "replica-a").Share);
    }

    [Fact]
    public void EveryReplicaWalksEverySenderOnceFromItsOwnStart()
    {
        var walks = new[] { "replica-a", "replica-b", "replica-c" }.Select(r => SenderShare.Plan(Senders, 3, [], r).Walk).ToList();

        Assert.All(walks, w => Assert.Equal(Senders, w.Order(StringComparer.Ordinal)));
        // The walk is a rotation of the ordered senders.
        Assert.All(walks, w => Assert.Equal(Senders, w.SkipWhile(s => s != "s1").Concat(w.TakeWhile(s => s != "s1")).ToArray()));
        Assert.Equal(walks[0], SenderShare.Plan(Senders, 3, [], "replica-a").Walk);
    }

    [Fact]
    public void AReplicaOverItsShareReleasesTheLastOfItsWalkFirst()
    {
        var walk = SenderShare.Plan(Senders, 1, [], "replica-a").Walk;

        var plan = SenderShare.Plan(Senders, 2, [.. Senders], "replica-a");

        Assert.Equal(3, plan.Share);
        Assert.Equal([walk[4], walk[3]], plan.Release);
    }

    [Fact]
    public void NothingIsReleasedWithinTheShareAndNoSenderMeansNoShare()
    {
        Assert.Empty(SenderShare.Plan(Senders, 2, ["s1", "s2"], "replica-a").Release);
        Assert.Equal((0, 0, 0), SenderShare.Plan([], 3, [], "replica-a") is var p ? (p.Share, p.Walk.Length, p.Release.Length) : default);
    }
}
