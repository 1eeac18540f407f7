using System.Globalization;
using System.Text.Json.Nodes;
using Bot.Tests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>Recurring and local-time announcements in the portal, in a real browser (its zone: Europe/Berlin).</summary>
public sealed class SchedulePortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    [Fact]
    public async Task AWeeklyAnnouncementShowsItsNextFiveOccurrencesAndItsSeriesCanBeCancelled()
    {
        await using var scenario = new Scenario(redis, NoWarning);
        await scenario.AddEmployeesAsync(2);
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.SignInAsync(server);

        // The Monday after next, 09:00 in the browser's zone.
        var today = DateTime.Today;
        var monday = today.AddDays(7 + ((int)DayOfWeek.Monday - (int)today.DayOfWeek + 7) % 7).AddHours(9);
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Weekly safety walk");
        await page.GetByLabel("Schedule", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Date and time").FillAsync(monday.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture));
        await page.GetByLabel("Repeat").SelectOptionAsync("weekly");
        // Monday is ticked for the first occurrence's weekday; Thursday too.
        await Expect(page.Locator("#repeat-days").GetByLabel("Mon")).ToBeCheckedAsync();
        await page.Locator("#repeat-days").GetByLabel("Thu").CheckAsync();
        await Expect(page.GetByLabel("Time zone of the schedule")).ToHaveValueAsync("Europe/Berlin");

        var next = page.Locator("#repeat-occurrences li");
        await Expect(next).ToHaveCountAsync(5);
        await Expect(next.First).ToContainTextAsync(monday.ToString("yyyy", CultureInfo.InvariantCulture));
        await PortalBrowser.ScreenshotAsync(page, "10-compose-recurrence");

        var post = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/announcements"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule announcement" }).ClickAsync();
        var body = JsonNode.Parse((await post).PostData!)!;
        Assert.Equal("FREQ=WEEKLY;BYDAY=MO,TH", body["recurrence"]!["rule"]!.GetValue<string>());
        Assert.Equal("Europe/Berlin", body["recurrence"]!["timeZone"]!.GetValue<string>());

        var series = page.Locator("#detail-series");
        await Expect(series).ToBeVisibleAsync();
        await Expect(page.Locator("#detail-series-rule")).ToHaveTextAsync("Every week on Mon, Thu (Europe/Berlin)");
        var occurrences = page.Locator("#detail-series-occurrences li");
        await Expect(occurrences).ToHaveCountAsync(5);
        await Expect(occurrences.First).ToContainTextAsync("scheduled");
        await Expect(occurrences.Nth(1)).ToContainTextAsync("upcoming");
        // The first occurrence's own cancel would cancel the series: only "Cancel the series" is offered.
        await Expect(page.Locator("#detail-cancel")).ToBeHiddenAsync();
        await PortalBrowser.ScreenshotAsync(page, "11-announcement-series");

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel the series" }).ClickAsync();
        await Expect(page.Locator("#detail-message")).ToHaveTextAsync("Series cancelled: no further occurrences will be sent.");
        await Expect(page.Locator("#detail-series-rule")).ToContainTextAsync("cancelled");
        await Expect(page.Locator("#detail-status")).ToHaveTextAsync("cancelled");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel the series" })).ToBeHiddenAsync();
        await PortalBrowser.ScreenshotAsync(page, "12-series-cancelled");
    }

    [Fact]
    public async Task AnAnnouncementAtNineInEachEmployeesZoneIsSentAsLocalTime()
    {
        await using var scenario = new Scenario(redis, NoWarning);
        await scenario.AddEmployeesAsync(1);
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.SignInAsync(server);

        var tomorrow = DateTime.Today.AddDays(2).AddHours(9);
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Good morning from HR");
        await page.GetByLabel("Schedule", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Date and time").FillAsync(tomorrow.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture));
        await page.GetByLabel("At this time in each employee’s own time zone").CheckAsync();
        var post = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/announcements"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule announcement" }).ClickAsync();

        var body = JsonNode.Parse((await post).PostData!)!;
        Assert.Null(body["sendAt"]);
        Assert.StartsWith(tomorrow.ToString("yyyy-MM-dd'T'09:00", CultureInfo.InvariantCulture), body["sendAtLocal"]!.GetValue<string>());
        await Expect(page.Locator("#detail-send-at")).ToContainTextAsync("in each employee’s time zone");
        await Expect(page.Locator("#detail-series")).ToBeHiddenAsync();
        await PortalBrowser.ScreenshotAsync(page, "13-announcement-local-time");
    }

    /// <summary>With a fallback template, a text to employees who never wrote to the bot needs no warning before sending.</summary>
    private static readonly Dictionary<string, string?> NoWarning = new()
    {
        ["Employers:acme:FallbackTemplate:Name"] = "announcement_notice",
        ["Employers:acme:FallbackTemplate:Language"] = "en_US",
    };
}
