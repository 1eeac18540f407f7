using System.Net;
using Bot.Tests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>The operator page in a real browser: a number checked with WhatsApp, an employer, a key shown once, revoked, and the audit.</summary>
public sealed class OperatorPortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    public const string AdminKey = "operator-portal-key-0123456789-abcdef";

    [Fact]
    public async Task OperatorAddsANumberAndAnEmployerIssuesAKeyRevokesItAndReadsTheAudit()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Admin:ApiKey"] = AdminKey });
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);

        await page.GotoAsync("/operator.html");
        await page.GetByLabel("Operator key").FillAsync("not-the-operator-key-0123456789-xyz");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#op-signin-form .form-error")).ToContainTextAsync("not accepted");
        await page.GetByLabel("Operator key").FillAsync(AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "WhatsApp numbers" })).ToBeVisibleAsync();

        // A number: WhatsApp's answer (verified name, quality) is shown; a bad id is refused naming the field.
        await page.GetByLabel("Sender id").FillAsync("globex-main");
        await page.GetByLabel("Access token").FillAsync("EAAG-globex-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check with WhatsApp and save" }).ClickAsync();
        await Expect(page.Locator("#sender-form .form-error")).ToContainTextAsync("phoneNumberId");
        await page.GetByLabel("Phone number id").FillAsync("300000000000001");
        await page.GetByRole(AriaRole.Button, new() { Name = "Check with WhatsApp and save" }).ClickAsync();
        await Expect(page.Locator("#sender-answer")).ToContainTextAsync("Stub Business 300000000000001, quality GREEN");
        await Expect(page.Locator("#sender-rows tr")).ToHaveCountAsync(2);
        await PortalBrowser.ScreenshotAsync(page, "operator-01-number");

        await page.GetByLabel("Employer id").FillAsync("globex");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Globex");
        await page.GetByLabel("Sender", new() { Exact = true }).SelectOptionAsync("globex-main");
        await page.GetByLabel("Time zone").FillAsync("Mars/Olympus");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save employer" }).ClickAsync();
        await Expect(page.Locator("#employer-form .form-error")).ToContainTextAsync("timeZone");
        await page.GetByLabel("Time zone").FillAsync("Europe/Berlin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save employer" }).ClickAsync();
        await Expect(page.Locator("#employer-rows tr", new() { HasText = "Globex" })).ToContainTextAsync("Europe/Berlin");

        // The key is shown once, copied with the button, and works.
        await page.GetByLabel("Key name").FillAsync("HR system");
        await page.GetByRole(AriaRole.Button, new() { Name = "Issue key" }).ClickAsync();
        await Expect(page.Locator("#new-key-value")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^ak_"));
        var key = await page.Locator("#new-key-value").TextContentAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.Locator("#copy-state")).ToHaveTextAsync("Copied.");
        Assert.Equal(key, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await PortalBrowser.ScreenshotAsync(page, "operator-02-key-issued");
        using var api = new HttpClient { BaseAddress = server.Url };
        api.DefaultRequestHeaders.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("api/employer")).StatusCode);

        await page.Locator("#key-rows tr").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator("#key-rows tr").GetByRole(AriaRole.Button, new() { Name = "Revoke" })).ToBeHiddenAsync();
        // sender.put, employer.put, apikey.issue, apikey.revoke: the two refused forms stored nothing.
        await Expect(page.Locator("#audit-rows tr")).ToHaveCountAsync(4);
        await Expect(page.Locator("#audit-rows tr").First).ToContainTextAsync("apikey.revoke");
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("api/employer")).StatusCode);
        await PortalBrowser.ScreenshotAsync(page, "operator-03-revoked-and-audit");
    }

    [Fact]
    public async Task TheEmployerPortalShowsTheAccountsOwnActivity()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["Admin:ApiKey"] = AdminKey });
        await using var server = PortalServer.Start(scenario.Settings);
        Assert.Equal(HttpStatusCode.Created, (await scenario.Api.PutAsync("/api/employees/e1",
            System.Net.Http.Json.JsonContent.Create(new { phone = "+16505550101" }))).StatusCode);
        using var other = scenario.ClientFor(Scenario.OtherApiKey);
        Assert.Equal(HttpStatusCode.Created, (await other.PutAsync("/api/employees/x1",
            System.Net.Http.Json.JsonContent.Create(new { phone = "+16505550102" }))).StatusCode);
        var page = await browser.NewPageAsync(server.Url);

        await page.GotoAsync("/");
        await page.GetByLabel("Employer API key").FillAsync(Scenario.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Activity", Exact = true }).ClickAsync();

        await Expect(page.Locator("#activity-rows tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#activity-rows tr")).ToContainTextAsync("key:configuration");
        await Expect(page.Locator("#activity-rows tr")).ToContainTextAsync("employee.put");
        await Expect(page.Locator("#activity-rows tr")).ToContainTextAsync("e1");
        await PortalBrowser.ScreenshotAsync(page, "operator-04-employer-activity");
    }
}
