using Enrichment.Portal.Tests;
using Enrichment.Portal.Core.Tests;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(Enrichment.Portal.E2E.BrowserFixture))]
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]

namespace Enrichment.Portal.E2E;

/// <summary>
/// The real portal on a loopback port and Debian's Chromium driven by Playwright (no browser download). When
/// Chromium is not installed the tests report themselves skipped (CI installs it).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public PortalHost Host { get; } = new();
    public IBrowser? Browser { get; private set; }
    private IPlaywright? _playwright;
    public static string ScreenshotDirectory { get; } = Path.Combine(TestData.RepoRoot, "artifacts", "screenshots");

    public static bool Available => File.Exists(ChromiumPath);

    public async ValueTask InitializeAsync()
    {
        if (!Available) return;
        await Host.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Available) await Host.DisposeAsync();
    }

    /// <summary>A fresh browser context (own cookies), 1280 x 900, signed in as the bootstrap admin.</summary>
    public async Task<IPage> SignedInPageAsync(string user = "admin", string password = PortalHost.AdminPassword)
    {
        if (Browser is null) Assert.Skip("Chromium is not installed (/usr/bin/chromium): apt-get install chromium");
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new() { Width = 1280, Height = 900 }, BaseURL = Host.BaseUri.ToString() });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.GetByTestId("login-username").FillAsync(user);
        await page.GetByTestId("login-password").FillAsync(password);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForURLAsync(u => !u.Contains("/login"));
        await WaitForBlazorAsync(page);
        return page;
    }

    /// <summary>Waits until the interactive circuit is up (MudBlazor's layout rendered and the socket connected).</summary>
    public static async Task WaitForBlazorAsync(IPage page)
    {
        await page.WaitForSelectorAsync("[data-testid=nav]");
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
        await page.WaitForTimeoutAsync(300);
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });
}
