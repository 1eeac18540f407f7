using System.Text.Json;
using Bot.Tests.Acknowledgements;
using Bot.Tests.Harness;
using Bot.Tests.Webhook;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>
/// Required acknowledgement in the portal, in a real browser: the switch and reminder settings, the audience picker's
/// live count, the acknowledged and reminded counts, who has not tapped by department, the chart and the export.
/// </summary>
public sealed class AcknowledgementPortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 20_000 };
    private static readonly LocatorAssertionsToContainTextOptions SlowContains = new() { Timeout = 20_000 };
    private static readonly LocatorAssertionsToHaveCountOptions SlowCount = new() { Timeout = 20_000 };

    [Fact]
    public async Task TheEmployerAsksADepartmentToAcknowledgeAndFollowsUpOnWhoHasNot()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Employers:acme:FallbackTemplate:Name"] = "announcement_notice",
            ["Employers:acme:FallbackTemplate:Language"] = "en_US",
        });
        var people = await AcknowledgementTests.AddEmployeesAsync(scenario);
        await scenario.StartDispatchersAsync(1);
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        await page.GotoAsync("/");
        await page.Keyboard.TypeAsync(Scenario.ApiKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New announcement" })).ToBeVisibleAsync();

        // The audience picker counts as the employer types (POST /api/announcements/preview).
        await Expect(page.Locator("#audience-count")).ToHaveTextAsync("Reaches 6 employees (6 outside the 24-hour window).", Slow);
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Safety briefing: read the new forklift rules before Monday.");
        await page.GetByLabel("By department, location or tag").CheckAsync();
        await page.GetByLabel("Departments").FillAsync("Warehouse");
        await Expect(page.Locator("#audience-count")).ToHaveTextAsync("Reaches 3 employees (3 outside the 24-hour window).", Slow);

        // The switch shows the reminder settings; a reminder sooner than 10 s is refused next to its field.
        await Expect(page.GetByLabel("Remind after", new() { Exact = true })).ToBeHiddenAsync();
        await page.GetByRole(AriaRole.Switch, new() { Name = "Ask employees to tap “Got it”" }).CheckAsync();
        await Expect(page.Locator("#message-count")).ToContainTextAsync("/ 1014 characters");
        await page.GetByLabel("Remind after", new() { Exact = true }).FillAsync("5");
        await page.GetByLabel("Unit of Remind after").SelectOptionAsync("S");
        await page.GetByLabel("Reminders (0–5)").FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send now" }).ClickAsync();
        await Expect(page.Locator("#acknowledgement-remindAfter-error")).ToHaveTextAsync("acknowledgement.remindAfter is between PT10S and P7D.", Slow);
        await page.GetByLabel("Remind after", new() { Exact = true }).FillAsync("10");
        await PortalBrowser.ScreenshotAsync(page, "ack-01-compose");
        var post = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/announcements"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send now" }).ClickAsync();
        var body = JsonDocument.Parse((await post).PostData!).RootElement;
        Assert.Equal("""{"required":true,"remindAfter":"PT10S","maxReminders":1}""", body.GetProperty("acknowledgement").GetRawText());
        Assert.Equal("""{"departments":["Warehouse"]}""", body.GetProperty("audience").GetRawText());

        // Sent; one of the three taps "Got it" (the template's quick reply): the view counts it and lists the other two.
        await Expect(page.Locator("#detail-status")).ToHaveTextAsync("completed", Slow);
        var id = Uri.UnescapeDataString(new Uri(page.Url).Fragment.Split('/').Last());
        await scenario.DeliverAsync(AcknowledgementTests.TemplateButton(people[2].Phone, $"ack:{id}"));
        await Expect(page.Locator("[data-ack-count='acknowledged']")).ToHaveTextAsync("1", Slow);
        var group = page.Locator("#unacknowledged details[data-department='Warehouse']");
        await Expect(group.Locator("summary")).ToHaveTextAsync("Warehouse — 2", Slow);
        Assert.Equal(["e4", "e5"], await group.Locator("li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.employee)"));

        // The reminder falls due: the other two get it, and the view says so.
        await AcknowledgementTests.DueNowAsync(scenario, id);
        await Expect(page.Locator("[data-ack-count='reminded']")).ToHaveTextAsync("2", Slow);
        await Expect(page.Locator("#acknowledgement-summary")).ToContainTextAsync("1 of 3 acknowledged. Reminders: 1 of 1 sent", SlowContains);
        await Expect(group.Locator("li[data-employee='e4']")).ToContainTextAsync("1 reminder", SlowContains);

        // The chart: one line per state present, drawn from the deliveries' times and the tap.
        await Expect(page.Locator("#delivery-chart path[data-series='sent']")).ToHaveCountAsync(1, SlowCount);
        await Expect(page.Locator("#delivery-chart path[data-series='acknowledged']")).ToHaveCountAsync(1, SlowCount);
        await Expect(page.Locator("#chart-description")).ToContainTextAsync("3 sent, 1 acknowledged of 3 targeted", SlowContains);
        await PortalBrowser.ScreenshotAsync(page, "ack-02-announcement-follow-up");

        // The export carries the tap's time.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Export deliveries (CSV)" }).ClickAsync());
        var lines = await File.ReadAllLinesAsync((await download.PathAsync())!);
        Assert.Equal(["e3", "e4", "e5"], lines.Skip(1).Select(l => l.Split(',')[0]));
        var acknowledgedAt = Array.IndexOf(lines[0].Split(','), "acknowledgedAt");
        Assert.NotEqual("", lines[1].Split(',')[acknowledgedAt]);
        Assert.All(lines.Skip(2), l => Assert.Equal("", l.Split(',')[acknowledgedAt]));
    }
}
