using Bot.Core.Announcements;
using Bot.Tests.Harness;
using Microsoft.Playwright;
using WireMock.ResponseBuilders;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>"Retry failed" and "Retry unknown" on the announcement page, in a real browser against the real host and dispatcher.</summary>
public sealed class RetryPortalTests(SharedRedis redis, PortalBrowser browser) : IClassFixture<SharedRedis>, IClassFixture<PortalBrowser>
{
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 20_000 };

    [Fact]
    public async Task TheEmployerRetriesTheFailedAndOnlyAfterTheWarningTheUnknown()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(3);
        var (undeliverable, lost) = (employees[0], employees[1]);
        scenario.Stub.ForRecipient(undeliverable.Phone).RespondWith(WhatsAppStub.GraphError(400, 131026, "Message undeliverable"));
        scenario.Stub.ForRecipient(lost.Phone).RespondWith(Response.Create().WithStatusCode(500));
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Shift swap closes at noon" });
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, TimeSpan.FromSeconds(30));
        await scenario.Stub.WhenSentAsync(3);

        await using var server = PortalServer.Start(scenario.Settings);
        var page = await browser.NewPageAsync(server.Url);
        await page.GotoAsync("/");
        await page.Keyboard.TypeAsync(Scenario.ApiKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New announcement" })).ToBeVisibleAsync();
        await page.GotoAsync($"/#/announcements/{id}");
        await Expect(page.Locator("#detail-status")).ToHaveTextAsync("completed", Slow);

        var retryFailed = page.GetByRole(AriaRole.Button, new() { Name = "Retry failed" });
        var retryUnknown = page.GetByRole(AriaRole.Button, new() { Name = "Retry unknown" });
        var retries = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/retry")) retries.Add(request.PostData ?? "");
        };
        await retryFailed.ClickAsync();
        await Expect(page.Locator("#detail-message")).ToHaveTextAsync("Retrying 1 delivery.", Slow);
        Assert.Equal(["""{"states":["failed"]}"""], retries);
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, TimeSpan.FromSeconds(30));
        await scenario.Stub.WhenSentAsync(4);
        Assert.Equal([2, 1, 1], employees.Select(e => scenario.Stub.CountTo(e.Phone)));

        // The warning first: dismissed, nothing is sent.
        var warning = new TaskCompletionSource<string>();
        void Dismiss(object? sender, IDialog dialog)
        {
            _ = dialog.DismissAsync();
            warning.TrySetResult(dialog.Message);
        }
        page.Dialog += Dismiss;
        await retryUnknown.ClickAsync();
        Assert.Contains("may have reached these employees already", await warning.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        page.Dialog -= Dismiss;
        Assert.Single(retries);

        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        var posted = page.WaitForResponseAsync(r => r.Url.EndsWith("/retry"));
        await retryUnknown.ClickAsync();
        Assert.Equal(202, (await posted).Status);
        Assert.Equal(["""{"states":["failed"]}""", """{"states":["unknown"]}"""], retries);
        await scenario.WaitForStatusAsync(id, AnnouncementStatus.Completed, TimeSpan.FromSeconds(30));
        await scenario.Stub.WhenSentAsync(5);
        Assert.Equal([2, 2, 1], employees.Select(e => scenario.Stub.CountTo(e.Phone)));
        Assert.Equal(5, scenario.Stub.Sends.Count);
        // The deliveries table shows each one's attempts.
        var row = page.Locator("#delivery-rows tr", new() { HasText = undeliverable.Id });
        await Expect(row.Locator("td[data-label='Attempts']")).ToHaveTextAsync("2", Slow);
        await Expect(page.Locator("#delivery-rows tr", new() { HasText = employees[2].Id }).Locator("td[data-label='Attempts']")).ToHaveTextAsync("1", Slow);
    }
}
