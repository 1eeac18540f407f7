using Bot.Tests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bot.Tests.Portal;

/// <summary>
/// Headless Debian Chromium driven by Playwright, one per test class. Playwright's own browser download does not
/// work here, so it drives the distribution's /usr/bin/chromium; when that is missing or will not start, every
/// portal test fails saying what to install — never a skip.
/// </summary>
public sealed class PortalBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private const string Install = "Install it with `apt-get install -y chromium` (.ci/run does this when it is missing).";

    private IPlaywright? playwright;
    private IBrowser? browser;

    public IBrowser Browser => browser ?? throw new InvalidOperationException("The browser did not start.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"The portal tests need Chromium at {ChromiumPath}, and it is not there. {Install}");
        try
        {
            playwright = await Playwright.CreateAsync();
            browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"Playwright could not start {ChromiumPath}: {ex.Message}. {Install} " +
                "The Playwright driver comes with the Microsoft.Playwright NuGet package (dotnet restore).", ex);
        }
    }

    /// <summary>A fresh browser context (own session storage) in the given time zone.</summary>
    public async Task<IPage> NewPageAsync(Uri baseUrl, string timeZone = "Europe/Berlin", int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            TimezoneId = timeZone,
            Locale = "en-GB",
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in on the page (opening the portal first on a blank one) with the key, and waits for the compose view.</summary>
    public static async Task SignInAsync(IPage page, string apiKey = Scenario.ApiKey)
    {
        if (page.Url is "about:blank") await page.GotoAsync("/");
        await Expect(page.GetByLabel("Employer API key")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(apiKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New announcement" })).ToBeVisibleAsync();
    }

    /// <summary>A new page of <paramref name="server"/>'s portal, signed in.</summary>
    public async Task<IPage> SignInAsync(PortalServer server)
    {
        var page = await NewPageAsync(server.Url);
        await SignInAsync(page);
        return page;
    }

    /// <summary>Saves a screenshot in artifacts/screenshots/ at the repository root, where CI collects test artifacts.</summary>
    public static Task ScreenshotAsync(IPage page, string name, bool fullPage = true) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory.Value, $"{name}.png"), FullPage = fullPage });

    private static readonly Lazy<string> ScreenshotDirectory = new(() =>
    {
        var path = Repo.PathOf(Path.Combine("artifacts", "screenshots"));
        Directory.CreateDirectory(path);
        return path;
    });

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.CloseAsync();
        playwright?.Dispose();
    }
}
