using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>
/// The first minutes of a newcomer: sign in, "Load the demo" on the home page, follow its progress, then reach a profile
/// that carries the demo's churn insight and its audience, clicking only what the UI offers (no URL typed after sign-in),
/// with no console error and no request to another host.
/// </summary>
public sealed class DemoE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task A_newcomer_loads_the_demo_from_the_home_page_and_clicks_through_to_an_enriched_profile_in_an_audience()
    {
        var page = await browser.SignedInPageAsync();
        var problems = GuidedPathInferredE2ETests.Watch(page, browser.Host.BaseUri);
        await page.SetViewportSizeAsync(1440, 900);

        await page.GetByTestId("nav-home").ClickAsync();
        await Assertions.Expect(page.GetByTestId("demo-card")).ToBeVisibleAsync();
        await page.GetByTestId("demo-load").ClickAsync();
        // Progress shows while it runs (the button is disabled), then the card says it is ready.
        await Assertions.Expect(page.GetByTestId("demo-progress")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(page, "demo-loading");
        await Assertions.Expect(page.GetByTestId("demo-ready")).ToBeVisibleAsync(new() { Timeout = 480_000 });
        await Assertions.Expect(page.GetByTestId("demo-ready")).ToContainTextAsync("High churn risk");
        await BrowserFixture.ScreenshotAsync(page, "demo-ready");

        await page.GetByTestId("demo-open-profile").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/profiles"));
        await BrowserFixture.WaitForBlazorAsync(page);
        // The switcher now shows sandbox demo; the profile has the churn insight and is in the audience.
        await Assertions.Expect(page.GetByTestId("profile-card")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("profile-insights")).ToContainTextAsync("demo_churn");
        await Assertions.Expect(page.GetByTestId("profile-segments")).ToContainTextAsync("High churn risk");
        await Assertions.Expect(page.GetByTestId("profile-main-identity")).ToContainTextAsync("CRMID");
        await BrowserFixture.ScreenshotAsync(page, "demo-enriched-profile");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
