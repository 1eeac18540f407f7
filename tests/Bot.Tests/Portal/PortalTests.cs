using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bot.Tests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>The employer portal in a real browser against the real host, Redis and the WhatsApp stub.</summary>
public sealed class PortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 20_000 };

    [Fact]
    public async Task EmployerImportsEmployeesSchedulesAnAnnouncementAndWatchesItComplete()
    {
        await using var scenario = new Scenario(redis, WithFallbackTemplate);
        await using var server = PortalServer.Start(scenario.Settings);
        await scenario.StartDispatchersAsync(1);
        var page = await browser.NewPageAsync(server.Url);
        var urls = new List<string>();
        page.Request += (_, request) => urls.Add(request.Url);

        // Sign in: a wrong key is refused next to the field, the right one is kept for the tab.
        await page.GotoAsync("/");
        await page.GetByLabel("Employer API key").FillAsync("not-the-key-0123456789");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#api-key-error")).ToContainTextAsync("not accepted");
        await PortalBrowser.ScreenshotAsync(page, "01-sign-in");
        await PortalBrowser.SignInAsync(page);
        Assert.Equal(Scenario.ApiKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('announcements.apiKey')"));

        // Import 20 employees by CSV; the one bad row is reported with its line and reason.
        await page.GetByRole(AriaRole.Link, new() { Name = "Employees", Exact = true }).ClickAsync();
        var csv = new StringBuilder("employeeId,phone,name\n");
        for (var i = 1; i <= 20; i++) csv.Append($"e{i:D5},+1650555{i:D4},Employee {i}\n");
        csv.Append("e99999,not-a-phone,Broken Row\n");
        await page.Locator("#import-csv").FillAsync(csv.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
        var importResult = page.Locator("#import-result");
        await Expect(importResult).ToContainTextAsync("20 created, 0 updated, 0 unchanged, 1 rejected");
        await Expect(importResult.Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(importResult.Locator("tbody tr")).ToContainTextAsync("e99999,not-a-phone,Broken Row");
        await Expect(page.Locator("#employee-rows tr")).ToHaveCountAsync(20);
        await PortalBrowser.ScreenshotAsync(page, "02-employees-import");

        // Schedule 3 s ahead in the employer's wall-clock time (Berlin); the page sends it with its offset.
        await page.GetByRole(AriaRole.Link, new() { Name = "Compose", Exact = true }).ClickAsync();
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Our end of year party is on Saturday evening!");
        await page.GetByLabel("Schedule", new() { Exact = true }).CheckAsync();
        var target = await page.EvaluateAsync<JsonElement>(
            // Chromium shows ":00" seconds as HH:mm, which Playwright's fill reports as a malformed value: skip that second.
            "() => { const d = new Date(Date.now() + 3000); d.setMilliseconds(0); if (d.getSeconds() === 0) d.setSeconds(1); const p = n => String(n).padStart(2, '0'); " +
            "return { value: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`, ms: d.getTime() }; }");
        await page.GetByLabel("Date and time").FillAsync(target.GetProperty("value").GetString()!);
        var post = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/announcements"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule announcement" }).ClickAsync();
        var sent = JsonDocument.Parse((await post).PostData!).RootElement;
        var dueAt = DateTimeOffset.FromUnixTimeMilliseconds(target.GetProperty("ms").GetInt64());
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        Assert.Equal(TimeZoneInfo.ConvertTime(dueAt, berlin).ToString("yyyy-MM-dd'T'HH:mm:sszzz"), sent.GetProperty("sendAt").GetString());

        // The detail view refreshes by itself until the dispatcher has sent to all 20.
        await Expect(page.Locator("#detail-status")).ToHaveTextAsync("completed", Slow);
        await Expect(page.Locator("[data-count='sent']")).ToHaveTextAsync("20", Slow);
        await Expect(page.Locator("#detail-progress-label")).ToHaveTextAsync("Settled 20 of 20");
        var sends = await scenario.Stub.WhenSentAsync(20);
        Assert.Equal(20, sends.Count);
        Assert.Equal(20, sends.Select(s => s.To).Distinct().Count());
        Assert.Equal(dueAt, (await scenario.GetAnnouncementAsync(CurrentAnnouncementId(page))).SendAt);
        await PortalBrowser.ScreenshotAsync(page, "03-announcement-completed");

        // Deliveries: 20 rows, 10 per page, and a state filter.
        await page.GetByLabel("Rows per page").SelectOptionAsync("10");
        await Expect(page.Locator("#delivery-rows tr")).ToHaveCountAsync(10);
        await Expect(page.Locator("#delivery-rows tr").First).ToContainTextAsync("e00001");
        await page.Locator("#delivery-pager").GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.Locator("#delivery-pager [data-page='label']")).ToHaveTextAsync("Page 2");
        await Expect(page.Locator("#delivery-rows tr")).ToHaveCountAsync(10);
        await Expect(page.Locator("#delivery-rows tr").First).ToContainTextAsync("e00011");
        await page.GetByLabel("State", new() { Exact = true }).SelectOptionAsync("failed");
        await Expect(page.Locator("#deliveries-empty")).ToBeVisibleAsync();
        await page.GetByLabel("State", new() { Exact = true }).SelectOptionAsync("sent");
        await Expect(page.Locator("#delivery-rows tr")).ToHaveCountAsync(10);

        // Phone-sized screen: the same screens, one column, tables as cards.
        await page.SetViewportSizeAsync(390, 844);
        await PortalBrowser.ScreenshotAsync(page, "04-announcement-phone");
        await page.GetByRole(AriaRole.Link, new() { Name = "Compose", Exact = true }).ClickAsync();
        await PortalBrowser.ScreenshotAsync(page, "05-compose-phone");

        Assert.DoesNotContain(urls, url => url.Contains(Scenario.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnEmptyMessageIsRefusedNextToItsFieldAndNothingTypedIsLost()
    {
        await using var scenario = new Scenario(redis, WithFallbackTemplate);
        await scenario.AddEmployeesAsync(3);
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        await PortalBrowser.SignInAsync(page);

        await page.GetByLabel("These employees").CheckAsync();
        await page.GetByLabel("Employee ids").FillAsync("e00001, e00002\ne00003");
        await Expect(page.Locator("#employee-ids-count")).ToHaveTextAsync("3 employees");
        await page.GetByLabel("Schedule", new() { Exact = true }).CheckAsync();
        var sendAt = await page.GetByLabel("Date and time").InputValueAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule announcement" }).ClickAsync();

        await Expect(page.Locator("#message-error")).ToHaveTextAsync("message must not be empty.");
        await Expect(page.GetByLabel("Message", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("Message", new() { Exact = true })).ToBeFocusedAsync();
        await Expect(page.GetByLabel("Employee ids")).ToHaveValueAsync("e00001, e00002\ne00003");
        await Expect(page.GetByLabel("Date and time")).ToHaveValueAsync(sendAt);
        await PortalBrowser.ScreenshotAsync(page, "06-compose-validation-error");

        // A reload keeps the session and the draft.
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New announcement" })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Employee ids")).ToHaveValueAsync("e00001, e00002\ne00003");
        await Expect(page.GetByLabel("Date and time")).ToHaveValueAsync(sendAt);
        await Expect(page.Locator("#employee-ids-count")).ToHaveTextAsync("3 employees");

        // A template's problems land next to the template's own fields (errors."template.name").
        await page.GetByLabel("Approved template").CheckAsync();
        await page.GetByLabel("Template name").FillAsync("Shift Notice");
        await page.GetByLabel("Parameters").FillAsync("Saturday\nthe loading dock");
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule announcement" }).ClickAsync();
        await Expect(page.Locator("#template-name-error")).ToContainTextAsync("lowercase letters");
        await Expect(page.GetByLabel("Template name")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("Parameters")).ToHaveValueAsync("Saturday\nthe loading dock");
        await page.GetByLabel("Text message").CheckAsync();

        // Over the limit: the counter says so as the employer types.
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync(new string('x', 4100));
        await Expect(page.Locator("#message-count")).ToHaveTextAsync("4100 / 4096 characters — 4 too many");

        // Fixed, the same form goes through and the error is gone.
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Shift swap board is open.");
        await Expect(page.Locator("#message-count")).ToHaveTextAsync("25 / 4096 characters");
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule announcement" }).ClickAsync();
        await Expect(page.Locator("#detail-status")).ToHaveTextAsync("scheduled");
        await Expect(page.Locator("#detail-audience")).ToHaveTextAsync("Chosen employees");
        await Expect(page.Locator("[data-count='targeted']")).ToHaveTextAsync("3");
    }

    [Fact]
    public async Task DoubleClickingSendCreatesOneAnnouncement()
    {
        await using var scenario = new Scenario(redis, WithFallbackTemplate);
        await scenario.AddEmployeesAsync(2);
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        var posts = new List<IRequest>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/api/announcements")) posts.Add(request);
        };
        await PortalBrowser.SignInAsync(page);

        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Canteen closed today");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send now" }).DblClickAsync();
        await Expect(page.Locator("#detail-status")).ToHaveTextAsync("scheduled");

        var list = await scenario.Api.GetFromJsonAsync<JsonElement>("/api/announcements");
        Assert.Equal(1, list.GetProperty("items").GetArrayLength());
        Assert.NotEmpty(posts);
        Assert.Single(posts.Select(p => p.Headers["idempotency-key"]).Distinct());

        // Two clicks in the same instant, before the page can disable the button, are still one announcement.
        await page.GetByRole(AriaRole.Link, new() { Name = "Compose", Exact = true }).ClickAsync();
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Parking lot repainting on Friday");
        await page.EvaluateAsync("() => { const send = document.querySelector('#send'); send.click(); send.click(); }");
        await Expect(page.Locator("#detail-content")).ToHaveTextAsync("Parking lot repainting on Friday");
        list = await scenario.Api.GetFromJsonAsync<JsonElement>("/api/announcements");
        Assert.Equal(2, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task AScheduledAnnouncementIsCancelledFromTheList()
    {
        await using var scenario = new Scenario(redis, WithFallbackTemplate);
        await scenario.AddEmployeesAsync(2);
        var sendAt = DateTimeOffset.UtcNow.AddHours(2).ToString("O");
        var keep = await scenario.CreateAnnouncementAsync(new { message = "Quarterly all-hands on Thursday", sendAt });
        var cancel = await scenario.CreateAnnouncementAsync(new { message = "Fire drill at 10:00", sendAt });
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        await PortalBrowser.SignInAsync(page);

        await page.GetByRole(AriaRole.Link, new() { Name = "Announcements", Exact = true }).ClickAsync();
        var row = page.Locator($"tr[data-id='{cancel}']");
        await Expect(row).ToContainTextAsync("scheduled");
        await row.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(row).ToContainTextAsync("cancelled");
        await Expect(row.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        await Expect(page.Locator("#announcements-message")).ToContainTextAsync("cancelled");
        await PortalBrowser.ScreenshotAsync(page, "07-announcements");

        Assert.Equal("cancelled", (await scenario.GetAnnouncementAsync(cancel)).Status);
        Assert.Equal("scheduled", (await scenario.GetAnnouncementAsync(keep)).Status);

        await page.GetByLabel("Status", new() { Exact = true }).SelectOptionAsync("scheduled");
        await Expect(page.Locator("#announcements-rows tr")).ToHaveCountAsync(1);
        await Expect(page.Locator($"tr[data-id='{keep}']")).ToBeVisibleAsync();
        await page.GetByLabel("Status", new() { Exact = true }).SelectOptionAsync("cancelled");
        await Expect(page.Locator("#announcements-rows tr")).ToHaveCountAsync(1);
        await Expect(page.Locator($"tr[data-id='{cancel}']")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AnEmployeeIsAddedEditedAndIssuedAJoinCode()
    {
        await using var scenario = new Scenario(redis, WithFallbackTemplate);
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        await PortalBrowser.SignInAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Employees", Exact = true }).ClickAsync();

        await page.GetByLabel("Employee id", new() { Exact = true }).FillAsync("e1001");
        await page.GetByLabel("WhatsApp phone number").FillAsync("12");
        await page.Locator("#employee-name").FillAsync("Sheena Nelson");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save employee" }).ClickAsync();
        await Expect(page.Locator("#employee-phone-error")).ToBeVisibleAsync();
        await Expect(page.Locator("#employee-name")).ToHaveValueAsync("Sheena Nelson");

        await page.GetByLabel("WhatsApp phone number").FillAsync("+1 650 555 1234");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save employee" }).ClickAsync();
        await Expect(page.Locator("#employee-form-result")).ToHaveTextAsync("Added e1001.");
        var row = page.Locator("tr[data-id='e1001']");
        await Expect(row).ToContainTextAsync("+16505551234");

        await row.GetByRole(AriaRole.Button, new() { Name = "Edit e1001" }).ClickAsync();
        await Expect(page.GetByLabel("WhatsApp phone number")).ToBeFocusedAsync();
        await page.Locator("#employee-name").FillAsync("Sheena N.");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#employee-form-result")).ToHaveTextAsync("Saved e1001.");
        await Expect(row).ToContainTextAsync("Sheena N.");

        // The join-code route answers 201 {code, expiresAt}; whatever it answers is what the employer sees.
        var answer = page.WaitForResponseAsync(r => r.Url.EndsWith("/api/employees/e1001/join-code"));
        await row.GetByRole(AriaRole.Button, new() { Name = "Issue join code for e1001" }).ClickAsync();
        var response = await answer;
        var message = page.Locator("#employees-message");
        if (response.Status == 201)
        {
            var code = (await response.JsonAsync())!.Value.GetProperty("code").GetString()!;
            await Expect(message).ToContainTextAsync($"JOIN {code}");
        }
        else
        {
            await Expect(message).ToContainTextAsync("Could not issue a join code for e1001");
        }
        await PortalBrowser.ScreenshotAsync(page, "08-employees");
    }

    /// <summary>Signs in with the keyboard alone: the key field has focus on arrival and Enter submits.</summary>
    [Fact]
    public async Task EmployeesOutsideTheWindowWithoutAFallbackTemplateAreWarnedAboutBeforeSending()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(3);
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        await PortalBrowser.SignInAsync(page);

        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("Canteen closed today");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send now" }).ClickAsync();

        await Expect(page.Locator("#compose-warning")).ToContainTextAsync("3 of 3 employees have not messaged the bot");
        await Expect(page.Locator("#compose-sender")).ToContainTextAsync("Sends from WhatsApp sender “default”");
        await PortalBrowser.ScreenshotAsync(page, "09-outside-window-warning");
        Assert.Equal(0, (await scenario.Api.GetFromJsonAsync<JsonElement>("/api/announcements")).GetProperty("items").GetArrayLength());
        await page.GetByRole(AriaRole.Button, new() { Name = "Send anyway" }).ClickAsync();
        await Expect(page.Locator("#detail-content")).ToHaveTextAsync("Canteen closed today");
    }

    /// <summary>Employees outside WhatsApp's 24-hour window get this template, so a text announcement needs no warning.</summary>
    private static readonly Dictionary<string, string?> WithFallbackTemplate = new()
    {
        ["Employers:acme:FallbackTemplate:Name"] = "announcement_notice",
        ["Employers:acme:FallbackTemplate:Language"] = "en_US",
    };

    private static string CurrentAnnouncementId(IPage page) =>
        Uri.UnescapeDataString(new Uri(page.Url).Fragment.Split('/').Last());
}
