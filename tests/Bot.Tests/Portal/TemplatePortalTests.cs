using System.Text.Json.Nodes;
using Bot.Tests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>Templates from the sender's catalog and an attached file in the compose form, in a real browser.</summary>
public sealed class TemplatePortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["WhatsApp:WabaId"] = WhatsAppStub.WabaId,
        ["Employers:acme:FallbackTemplate:Name"] = "announcement_notice",
        ["Employers:acme:FallbackTemplate:Language"] = "en_US",
    };

    [Fact]
    public async Task TheEmployerPicksATemplateFromTheCatalogFillsItsParametersThenSendsAPdfWithACaption()
    {
        await using var scenario = new Scenario(redis, Settings);
        var catalog = scenario.Stub.Catalog;
        catalog.Add(WhatsAppStub.WabaId, "safety_briefing", "de", "Sicherheitsunterweisung: {{1}} ab {{2}}");
        catalog.Add(WhatsAppStub.WabaId, "summer_party", "en_US", "Join us on {{1}}!", category: "MARKETING");
        catalog.Add(WhatsAppStub.WabaId, "announcement_notice", "en_US", "New announcement: {{1}}", headerFormat: "DOCUMENT");
        await scenario.AddEmployeesAsync(2);
        // The host reads the catalog as it starts.
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.SignInAsync(server);

        await page.GetByLabel("Approved template").CheckAsync();
        var choice = page.GetByLabel("Template", new() { Exact = true });
        await Expect(choice.Locator("option")).ToHaveCountAsync(4);
        await choice.SelectOptionAsync(new SelectOptionValue { Label = "summer_party · en_US — APPROVED" });
        await Expect(page.Locator("#template-info")).ToContainTextAsync("MARKETING");
        await choice.SelectOptionAsync(new SelectOptionValue { Label = "safety_briefing · de — APPROVED" });
        await page.GetByLabel("Parameters").FillAsync("Halle 3\nMontag");
        await Expect(page.Locator("#template-preview")).ToHaveTextAsync("Preview: Sicherheitsunterweisung: Halle 3 ab Montag");
        await PortalBrowser.ScreenshotAsync(page, "30-compose-template-from-catalog");

        var post = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/announcements"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send now" }).ClickAsync();
        var template = JsonNode.Parse((await post).PostData!)!["template"]!;
        Assert.Equal(("safety_briefing", "de", "Halle 3,Montag"), ((string?)template["name"], (string?)template["language"],
            string.Join(',', template["parameters"]!.AsArray().Select(p => (string?)p))));
        await Expect(page.Locator("#detail-status")).ToBeVisibleAsync();

        await page.GotoAsync("/#/compose");
        await page.GetByLabel("Text message").CheckAsync();
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync("The new safety rules, please read them");
        await page.GetByLabel("Attach a file").SetInputFilesAsync(new FilePayload
        {
            Name = "rules.pdf", MimeType = "application/pdf", Buffer = [.. "%PDF-1.7\n"u8, .. new byte[4096]],
        });
        await Expect(page.Locator("#media-status")).ToContainTextAsync("Attached rules.pdf");
        await PortalBrowser.ScreenshotAsync(page, "31-compose-attached-pdf");
        post = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/api/announcements"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send now" }).ClickAsync();

        var media = JsonNode.Parse((await post).PostData!)!["media"]!;
        Assert.False(string.IsNullOrEmpty((string?)media["id"]));
        Assert.Equal(1, scenario.Stub.MediaUploads);
        await Expect(page.Locator("#detail-content")).ToContainTextAsync("with document rules.pdf");
        await PortalBrowser.ScreenshotAsync(page, "32-announcement-with-pdf");
    }
}
