using System.Text.RegularExpressions;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace Bot.Tests.Announcements;

/// <summary>
/// <see cref="AnnouncementLifecycle"/> is the one definition of the announcement statuses; the portal repeats the list.
/// These tests hold the script to the table and fail when the portal drifts from it.
/// </summary>
public sealed partial class AnnouncementLifecycleTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public void PortalFiltersByExactlyTheStatuses()
    {
        var page = File.ReadAllText(Repo.PathOf("src/Bot.Webhook/wwwroot/index.html"));
        var filter = page[page.IndexOf("<select id=\"status-filter\">", StringComparison.Ordinal)..];
        filter = filter[..filter.IndexOf("</select>", StringComparison.Ordinal)];

        Assert.Equal(["", .. AnnouncementStatus.All], OptionValue().Matches(filter).Select(m => m.Groups["v"].Value));
    }

    [Fact]
    public async Task APauseSetsItsReasonAndResumeTimeAndLeavingItClearsThem()
    {
        var (db, lifecycle) = Fresh();
        var id = await StoredAsync(db, AnnouncementStatus.Dispatching);
        var until = DateTimeOffset.UtcNow.AddMinutes(5);

        Assert.True(await lifecycle.PauseAsync(id, "131031: account locked", until));
        Assert.False(await lifecycle.PauseAsync(id, "again", until));
        var paused = await db.HashGetAllAsync(RedisKeys.Announcement(id));
        Assert.Equal("131031: account locked", paused.Single(e => e.Name == AnnouncementLifecycle.Reason).Value);
        Assert.Equal(until.ToUnixMs(), (long)paused.Single(e => e.Name == AnnouncementLifecycle.ResumesAt).Value);
        Assert.Contains(paused, e => e.Name == "pausedAt");

        Assert.Equal(AnnouncementStatus.Paused, await lifecycle.ResumeAsync(id, AnnouncementStatus.Paused));
        var resumed = await db.HashGetAllAsync(RedisKeys.Announcement(id));
        Assert.Equal(AnnouncementStatus.Dispatching, resumed.Single(e => e.Name == AnnouncementLifecycle.Status).Value);
        Assert.DoesNotContain(resumed, e => e.Name == AnnouncementLifecycle.Reason || e.Name == AnnouncementLifecycle.ResumesAt);
        Assert.Contains(resumed, e => e.Name == "resumedAt");
    }

    [Fact]
    public async Task OnlyTheMoveFromTheExpectedStatusHappens()
    {
        var (db, lifecycle) = Fresh();
        var id = await StoredAsync(db, AnnouncementStatus.Completed);

        Assert.False(await lifecycle.CancelAsync(id));
        Assert.Equal(AnnouncementStatus.Completed, await lifecycle.ExpireAsync(id, AnnouncementStatus.Dispatching));
        Assert.Equal(AnnouncementStatus.Completed, await db.HashGetAsync(RedisKeys.Announcement(id), AnnouncementLifecycle.Status));
        Assert.True(await lifecycle.RetryAsync(id));
        Assert.True(await lifecycle.CompleteAsync(id));
        Assert.Null(await lifecycle.StartAsync("missing"));
    }

    [Theory]
    [InlineData(AnnouncementStatus.WaitingForLimit)]
    [InlineData(AnnouncementStatus.Paused)]
    public async Task AnAnnouncementWhoseDeliveriesAllSettledCompletesOverALatePassesWaitOrPause(string late)
    {
        // A pass that stalled past its lease says waiting or paused after another pass took the announcement on and
        // sent the rest: the status must not stay there with nothing left to send.
        var (db, lifecycle) = Fresh();
        var id = await StoredAsync(db, AnnouncementStatus.Dispatching);
        await db.HashSetAsync(RedisKeys.Announcement(id), [new HashEntry(AnnouncementLifecycle.Status, late), new HashEntry(AnnouncementLifecycle.ResumesAt, 1)]);

        Assert.True(await lifecycle.CompleteAsync(id));
        Assert.False(await lifecycle.CompleteAsync(id));
        var completed = await db.HashGetAllAsync(RedisKeys.Announcement(id));
        Assert.Equal(AnnouncementStatus.Completed, completed.Single(e => e.Name == AnnouncementLifecycle.Status).Value);
        Assert.DoesNotContain(completed, e => e.Name == AnnouncementLifecycle.ResumesAt);
    }

    [Fact]
    public async Task AMoveOutsideTheTableIsRefusedBeforeRedis()
    {
        Assert.False(AnnouncementLifecycle.CanMove(AnnouncementStatus.Cancelled, AnnouncementStatus.Dispatching));
        Assert.True(AnnouncementLifecycle.CanMove(AnnouncementStatus.Paused, AnnouncementStatus.Expired));
        var (_, lifecycle) = Fresh();
        await Assert.ThrowsAsync<InvalidOperationException>(() => lifecycle.ExpireAsync("x", AnnouncementStatus.Scheduled));
    }

    private (IDatabase Db, AnnouncementLifecycle Lifecycle) Fresh()
    {
        var db = redis.Connection.GetDatabase().WithKeyPrefix(SharedRedis.NewKeyPrefix());
        return (db, new AnnouncementLifecycle(db, TimeProvider.System));
    }

    private static async Task<string> StoredAsync(IDatabase db, string status)
    {
        var id = AnnouncementStore.NewId();
        await db.HashSetAsync(RedisKeys.Announcement(id), AnnouncementLifecycle.Status, status);
        return id;
    }

    [GeneratedRegex(@"<option value=""(?<v>\w*)""")]
    private static partial Regex OptionValue();
}
