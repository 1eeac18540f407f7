using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Announcements;

/// <summary>
/// Creation writes three hash slots in three atomic steps; a process that dies between them must not leave an
/// announcement stored but never sent.
/// </summary>
public sealed class CreationRepairTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task AnnouncementStoredButNeverQueuedIsQueuedByTheRepairAndSentOnce()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(20);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Our end of year party is on Saturday evening!" });
        await InterruptAfterStoringAsync(scenario, id, markedAgo: TimeSpan.Zero);
        Assert.DoesNotContain(id, await ListedAsync(scenario));

        await scenario.StartDispatchersAsync(2, new Dictionary<string, string?> { ["Dispatcher:RepairCreationsAfter"] = "00:00:00.200" });

        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(15));
        Assert.Equal(20, done.Counts.Sent);
        var sends = await scenario.Stub.WhenSentAsync(20);
        Assert.Equal(employees.Select(e => e.Phone).Order(), sends.Select(s => s.To).Order());
        Assert.Contains(id, await ListedAsync(scenario));
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.PendingCreations("default")));
    }

    [Fact]
    public async Task RepairFinishesOnlyInterruptedCreationsAndForgetsTheRest()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);
        var later = new { message = "later", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") };
        var interrupted = await scenario.CreateAnnouncementAsync(later, "interrupted");
        var underWay = await scenario.CreateAnnouncementAsync(later, "under-way");
        var cancelled = await scenario.CreateAnnouncementAsync(later, "cancelled");
        var replayed = await scenario.CreateAnnouncementAsync(later, "replayed");
        Assert.Equal(replayed, await scenario.CreateAnnouncementAsync(later, "replayed"));
        // A completed creation, first or replayed, leaves no mark.
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.PendingCreations("default")));

        await InterruptAfterStoringAsync(scenario, interrupted, markedAgo: TimeSpan.FromMinutes(10));
        await InterruptAfterStoringAsync(scenario, underWay, markedAgo: TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.NoContent, (await scenario.Api.DeleteAsync($"/api/announcements/{cancelled}")).StatusCode);
        await MarkAsync(scenario, cancelled, TimeSpan.FromMinutes(10));
        await MarkAsync(scenario, "never-stored", TimeSpan.FromMinutes(10));

        // Three replicas at once: every step is idempotent.
        var store = scenario.AppServices.GetRequiredService<AnnouncementStore>();
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => store.RepairCreationsAsync("default", TimeSpan.FromMinutes(1))));

        var due = (await scenario.Redis.SortedSetRangeByRankAsync(RedisKeys.Due("default"))).Select(v => (string)v!).ToList();
        Assert.Equal([interrupted, replayed], due.Order());
        Assert.Equal([underWay], (await scenario.Redis.SortedSetRangeByRankAsync(RedisKeys.PendingCreations("default"))).Select(v => (string)v!));
        Assert.Contains(interrupted, await ListedAsync(scenario));
        Assert.Equal("cancelled", (await scenario.GetAnnouncementAsync(cancelled)).Status);
    }

    /// <summary>
    /// Puts Redis in the state a creating process leaves when it dies after storing the announcement: marked, stored,
    /// neither listed nor queued.
    /// </summary>
    private static async Task InterruptAfterStoringAsync(Scenario scenario, string id, TimeSpan markedAgo)
    {
        var index = RedisKeys.Announcements(scenario.EmployerId);
        foreach (var member in await scenario.Redis.SortedSetRangeByRankAsync(index))
            if (((string)member!).EndsWith($":{id}", StringComparison.Ordinal)) await scenario.Redis.SortedSetRemoveAsync(index, member);
        Assert.True(await scenario.Redis.SortedSetRemoveAsync(RedisKeys.Due("default"), id));
        await MarkAsync(scenario, id, markedAgo);
    }

    private static Task MarkAsync(Scenario scenario, string id, TimeSpan ago) =>
        scenario.Redis.SortedSetAddAsync(RedisKeys.PendingCreations("default"), id, (DateTimeOffset.UtcNow - ago).ToUnixMs());

    private static async Task<List<string>> ListedAsync(Scenario scenario)
    {
        var page = await scenario.Api.GetFromJsonAsync<JsonObject>("/api/announcements?limit=100");
        return [.. page!["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>())];
    }
}
