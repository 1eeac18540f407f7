using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Tests.Harness;

namespace Bot.Tests.Api;

public sealed class PagingTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task EmployeesPageInIdOrderUntilTheCursorRunsOut()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(7);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees?limit=3&cursor={cursor}"))!;
            seen.AddRange(page["items"]!.AsArray().Select(e => e!["employeeId"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 7).Select(i => $"e{i:D5}"), seen);
    }

    [Fact]
    public async Task AnnouncementsListNewestFirstAndFilterByStatus()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);
        var later = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add(await scenario.CreateAnnouncementAsync(new { message = $"m{i}", sendAt = later }));
        await scenario.Api.DeleteAsync($"/api/announcements/{ids[1]}");
        await scenario.Api.DeleteAsync($"/api/announcements/{ids[3]}");

        var first = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/announcements?limit=2"))!;
        var second = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/announcements?limit=10&cursor={Uri.EscapeDataString(first["nextCursor"]!.GetValue<string>())}"))!;
        var cancelled = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/announcements?status=cancelled"))!;

        string[] Ids(JsonObject page) => [.. page["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>())];
        Assert.Equal([ids[4], ids[3]], Ids(first));
        Assert.Equal([ids[2], ids[1], ids[0]], Ids(second));
        Assert.Equal([ids[3], ids[1]], Ids(cancelled));
    }
}
