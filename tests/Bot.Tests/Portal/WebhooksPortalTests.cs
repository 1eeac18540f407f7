using Bot.Tests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>The Webhooks page: register the employer's endpoint, keep the secret shown once, watch attempts, replay failed ones.</summary>
public sealed class WebhooksPortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    [Fact]
    public async Task TheEmployerRegistersAnEndpointSeesItsFailedAttemptsAndReplaysThemSigned()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Webhooks:AllowHttp"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.050",
            ["Webhooks:FirstRetryDelay"] = "00:00:00.100",
            ["Webhooks:MaxRetryDelay"] = "00:00:00.200",
            ["Webhooks:RetryFor"] = "00:00:01",
            ["Employers:acme:FallbackTemplate:Name"] = "announcement_notice",
            ["Employers:acme:FallbackTemplate:Language"] = "en_US",
        });
        await scenario.AddEmployeesAsync(2);
        await using var receiver = new EventReceiver { Answer = 503 };
        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.SignInAsync(server);

        await page.GetByRole(AriaRole.Link, new() { Name = "Webhooks", Exact = true }).ClickAsync();
        await Expect(page.Locator("#webhook-status")).ToContainTextAsync("No endpoint yet");
        await page.GetByLabel("Endpoint URL").FillAsync(receiver.Url);
        await page.GetByLabel("announcement.paused").UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save endpoint" }).ClickAsync();
        await Expect(page.Locator("#webhook-secret")).ToContainTextAsync("whsec_");
        var secret = (await page.Locator("#webhook-secret").TextContentAsync())!.Trim();
        await PortalBrowser.ScreenshotAsync(page, "40-webhooks-secret-shown-once");

        // Two deliveries and the completion: the receiver answers 503 until the retries run out.
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Canteen closed on Friday" });
        await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(30));
        // The page refreshes its attempts while shown.
        await Eventually.WaitAsync(() => page.Locator("#webhook-attempts tr", new() { HasText = "failed" }).CountAsync(),
            n => n >= 3, TimeSpan.FromSeconds(30), "three events given up on, listed as failed");
        await Expect(page.Locator("#webhook-attempts")).ToContainTextAsync("503");
        await PortalBrowser.ScreenshotAsync(page, "41-webhooks-failed-attempts");

        receiver.Answer = 200;
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay failed" }).ClickAsync();
        await Expect(page.Locator("#webhook-status")).ToContainTextAsync("failed events sent again");
        var delivered = await Eventually.WaitAsync(() => Task.FromResult(receiver.Delivered), d => d.Count >= 3, TimeSpan.FromSeconds(30),
            "the replayed events at the receiver");
        Assert.All(delivered, e => Assert.True(EventReceiver.Verifies(e, secret), $"event {e.Id} does not verify with the secret shown"));
        Assert.Contains(delivered, e => e.Body.Contains("announcement.completed", StringComparison.Ordinal));
        await PortalBrowser.ScreenshotAsync(page, "42-webhooks-replayed");
    }
}
