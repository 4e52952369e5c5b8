using Microsoft.Playwright;

namespace TrustedLaunch.Portal.Tests;

/// <summary>
/// Playwright for .NET (its driver ships in the NuGet package and runs offline) driving Debian's <c>chromium</c>:
/// Playwright's own browser download is not available, so it is pointed at <c>/usr/bin/chromium</c>.
/// Screenshots go to <c>TL_PORTAL_SCREENSHOTS</c> when set (scripts/portal-screenshots.sh).
/// </summary>
public sealed class PortalBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private PortalBrowser(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    public IPage Page { get; }

    public static async Task<PortalBrowser> LaunchAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"{Chromium} is missing: scripts/install-deps.sh installs Debian's chromium.");
        IPlaywright playwright = await Playwright.CreateAsync();
        IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(30_000);
        return new PortalBrowser(playwright, browser, page);
    }

    /// <summary>A page in a fresh browser context (its own cookies): another person at another browser.</summary>
    public async Task<IPage> NewSessionAsync()
    {
        IPage page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(30_000);
        return page;
    }

    /// <summary>Saves a full-page screenshot as <c>NAME.png</c> when <c>TL_PORTAL_SCREENSHOTS</c> names a folder.</summary>
    public async Task ScreenshotAsync(string name)
    {
        if (Environment.GetEnvironmentVariable("TL_PORTAL_SCREENSHOTS") is not { Length: > 0 } folder)
            return;
        Directory.CreateDirectory(folder);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
