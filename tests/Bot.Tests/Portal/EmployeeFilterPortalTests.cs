using Bot.Tests.Employees;
using Bot.Tests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>The employees page's attribute columns and filters, and an announcement's CSV export, in a real browser.</summary>
public sealed class EmployeeFilterPortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    [Fact]
    public async Task TheEmployerFiltersEmployeesByAttributesAndExportsAnAnnouncementsDeliveries()
    {
        // With a fallback template, a text to employees who never wrote to the bot needs no warning before sending.
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Employers:acme:FallbackTemplate:Name"] = "announcement_notice",
            ["Employers:acme:FallbackTemplate:Language"] = "en_US",
        });
        await EmployeeAttributeTests.ImportStaffAsync(scenario);
        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = "Inventory on Friday", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O"), employeeIds = new[] { "e01", "e02" },
        });
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.SignInAsync(server);

        await page.GetByRole(AriaRole.Link, new() { Name = "Employees", Exact = true }).ClickAsync();
        var rows = page.Locator("#employee-rows tr");
        await Expect(rows).ToHaveCountAsync(7);
        await Expect(page.Locator("#employee-rows tr[data-id='e02']")).ToContainTextAsync("vip; early");

        var filter = page.Locator("#employee-filter");
        await filter.GetByLabel("Department").FillAsync("Sales");
        await filter.GetByLabel("Location").FillAsync("Berlin");
        await filter.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        Assert.Equal(["e01", "e05"], await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)"));
        await filter.GetByRole(AriaRole.Button, new() { Name = "Show all" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(7);

        // An audience by attribute from the compose form, shown in words on the announcement.
        await page.GetByRole(AriaRole.Link, new() { Name = "Compose", Exact = true }).ClickAsync();
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Sales in Berlin: stand-up moved to 9:30");
        await page.GetByLabel("By department, location or tag").CheckAsync();
        await page.GetByLabel("Departments").FillAsync("Sales");
        await page.GetByLabel("Locations").FillAsync("Berlin; Munich");
        await page.GetByLabel("Schedule", new() { Exact = true }).CheckAsync();
        var post = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/announcements"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule announcement" }).ClickAsync();
        Assert.Contains("\"audience\":{\"departments\":[\"Sales\"],\"locations\":[\"Berlin\",\"Munich\"]}", (await post).PostData);
        await Expect(page.Locator("#detail-audience")).ToHaveTextAsync("Employees with department Sales and location Berlin or Munich");

        await page.GotoAsync($"/#/announcements/{id}");
        await Expect(page.Locator("#detail-status")).ToHaveTextAsync("scheduled");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Export deliveries (CSV)" }).ClickAsync());
        Assert.Equal($"deliveries-{id}.csv", download.SuggestedFilename);
        var lines = (await File.ReadAllLinesAsync((await download.PathAsync())!)).ToList();
        Assert.Equal("employeeId,name,department,location,state,form,error,messageId,sentAt,deliveredAt,readAt,acknowledgedAt,attempts,language", lines[0]);
        Assert.Equal(["e01,Ann,Sales,Berlin,pending,,,,,,,,0,", "e02,Bob,Sales,Hamburg,pending,,,,,,,,0,"], lines.Skip(1));
    }
}
