using Bot.Core;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using StackExchange.Redis;

namespace Bot.Tests.Dispatch;

/// <summary>An upgrade from the one global queue: what it holds moves into the senders' queues and is sent once.</summary>
public sealed class LegacyQueueMigrationTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task AnnouncementsLeftInTheOldGlobalQueueAreMovedToTheirSendersQueueAndSentOnce()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Senders:a:PhoneNumberId"] = "100000000000001",
            ["Senders:a:AccessToken"] = "token-a",
            ["Employers:acme:Sender"] = "a",
        });
        var employees = await scenario.AddEmployeesAsync(30);
        var due = await scenario.CreateAnnouncementAsync(new { message = "Left due" });
        var inFlight = await scenario.CreateAnnouncementAsync(new { message = "Left in flight" });
        var later = DateTimeOffset.UtcNow.AddHours(1);
        var notYet = await scenario.CreateAnnouncementAsync(new { message = "Not due yet", sendAt = later.ToString("O") });
        // As an earlier version left them: in the global keys, and in no sender's queue.
        foreach (var id in new[] { due, inFlight, notYet }) Assert.True(await scenario.Redis.SortedSetRemoveAsync(RedisKeys.Due("a"), id));
        await scenario.Redis.SortedSetAddAsync(RedisKeys.Legacy.Due, [new(due, 0), new(notYet, later.ToUnixMs())]);
        await scenario.Redis.SortedSetAddAsync(RedisKeys.Legacy.InFlight, inFlight, DateTimeOffset.UtcNow.AddMinutes(1).ToUnixMs());
        await scenario.Redis.HashSetAsync(RedisKeys.Legacy.LeaseOwners, inFlight, "old-version.1.abcdef");

        // Two replicas start (and migrate) at once.
        await scenario.StartDispatchersAsync(2);

        await scenario.WaitForStatusAsync(due, "completed", TimeSpan.FromSeconds(30));
        await scenario.WaitForStatusAsync(inFlight, "completed", TimeSpan.FromSeconds(30));
        var sends = await scenario.Stub.WhenSentAsync(60);
        Assert.Equal(60, sends.Select(s => s.CallbackData).Distinct().Count());
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Where(s => s.Text == "Left due").Select(s => s.To).Order());
        Assert.Equal(later.ToUnixMs(), await scenario.Redis.SortedSetScoreAsync(RedisKeys.Due("a"), notYet));
        foreach (var key in new RedisKey[] { RedisKeys.Legacy.Due, RedisKeys.Legacy.InFlight, RedisKeys.Legacy.LeaseOwners })
            Assert.False(await scenario.Redis.KeyExistsAsync(key), $"{key} still exists");
    }
}
