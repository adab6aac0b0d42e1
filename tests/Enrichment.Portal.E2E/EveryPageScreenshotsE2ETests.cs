using Enrichment.Portal.Web.Components.Layout;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>
/// Every page of the menu, light and dark, at 1440 x 900 and 1280 x 720 (artifacts/screenshots/every-*.png): no page logs a
/// console error or asks a host other than the portal for anything, and the menu's last item is reachable without scrolling
/// the page at 900 px height.
/// </summary>
public sealed class EveryPageScreenshotsE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task Every_page_in_light_and_dark_at_two_laptop_sizes_has_no_console_error_and_no_outside_request()
    {
        var page = await browser.SignedInPageAsync();
        var problems = GuidedPathInferredE2ETests.Watch(page, browser.Host.BaseUri);
        var hrefs = new[] { "/", "/wizard?step=1" }
            .Concat(NavGroups.All.SelectMany(g => g.Links).Select(l => l.Href).Where(h => h.StartsWith('/') && !h.StartsWith("/api")))
            .Distinct().ToList();
        foreach (var (width, height) in new[] { (1440, 900), (1280, 720) })
        {
            await page.SetViewportSizeAsync(width, height);
            foreach (var theme in new[] { "light", "dark" })
            {
                await page.EvaluateAsync($"() => localStorage.setItem('ep-theme', '{theme}')");
                foreach (var href in hrefs)
                {
                    var response = await page.GotoAsync(href);
                    Assert.True(response is { Ok: true }, $"{href} answered {response?.Status}");
                    await BrowserFixture.WaitForBlazorAsync(page);
                    await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                    Assert.DoesNotContain("An unhandled error has occurred", await page.ContentAsync());
                    var name = href == "/" ? "home" : href.Trim('/').Replace('/', '-').Replace("?", "-").Replace("=", "");
                    await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, $"every-{name}-{theme}-{width}x{height}.png") });
                }
                if (height == 900)
                {
                    // The menu's last item is inside the window (no scrolling needed) at 900 px height.
                    var last = page.Locator("[data-testid=nav] a").Last;
                    var box = await last.BoundingBoxAsync();
                    Assert.True(box is not null && box.Y + box.Height <= height, $"the last menu item ends at {box?.Y + box?.Height} px, below {height} px");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
    }
}
