using System.Net.Http.Json;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Components.Layout;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

public sealed class FoundationE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task A_wrong_password_is_refused_on_the_login_page()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        var context = await browser.Browser.NewContextAsync(new() { BaseURL = browser.Host.BaseUri.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/jobs");
        Assert.Contains("/login", page.Url);
        await page.GetByTestId("login-username").FillAsync("admin");
        await page.GetByTestId("login-password").FillAsync("not-the-password");
        await page.GetByTestId("login-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("login-error")).ToContainTextAsync("Unknown user name or wrong password.");
        await BrowserFixture.ScreenshotAsync(page, "login-error");
        await context.DisposeAsync();
    }

    [Fact]
    public async Task An_admin_logs_in_visits_every_page_switches_sandbox_and_creates_an_api_key()
    {
        using (var api = browser.Host.Api())
            await api.PostAsJsonAsync("/api/v1/sandboxes", new { name = "dev", title = "Development" });
        var page = await browser.SignedInPageAsync();
        await Assertions.Expect(page.GetByTestId("guided-path")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "home");

        foreach (var link in NavGroups.All.SelectMany(g => g.Links).Where(l => l.Href.StartsWith('/') && !l.Href.StartsWith("/api")))
        {
            var response = await page.GotoAsync(link.Href);
            Assert.True(response is { Ok: true }, $"{link.Href} answered {response?.Status}");
            await BrowserFixture.WaitForBlazorAsync(page);
            Assert.DoesNotContain("An unhandled error has occurred", await page.ContentAsync());
            await BrowserFixture.ScreenshotAsync(page, "page" + link.Href.Replace('/', '-'));
        }

        // Create an API key in the UI: it is shown once.
        await page.GotoAsync("/admin/api-keys");
        await BrowserFixture.WaitForBlazorAsync(page);
        await page.GetByTestId("create-key").ClickAsync();
        await page.Locator("input[data-testid=key-name]").FillAsync("e2e key");
        await page.GetByTestId("key-submit").ClickAsync();
        var secret = await page.Locator("input[data-testid=created-key]").InputValueAsync();
        Assert.StartsWith("ep_", secret);
        await BrowserFixture.ScreenshotAsync(page, "api-key-created");
        await page.GetByTestId("key-done").ClickAsync();
        await Assertions.Expect(page.GetByTestId("keys-grid")).ToContainTextAsync("e2e key");
        Assert.DoesNotContain(secret, await page.ContentAsync());
        using (var client = browser.Host.Api(secret))
            Assert.True((await client.GetAsync("/api/v1/jobs")).IsSuccessStatusCode);

        // Switch to sandbox dev and back.
        await page.GetByTestId("current-sandbox").ClickAsync();
        await BrowserFixture.ScreenshotAsync(page, "sandbox-menu");
        await page.GetByTestId("sandbox-option-dev").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/admin/api-keys"));
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("current-sandbox")).ToContainTextAsync("dev");
        await Assertions.Expect(page.GetByTestId("keys-grid")).Not.ToContainTextAsync("e2e key");
        await BrowserFixture.ScreenshotAsync(page, "sandbox-dev");
    }

    [Fact]
    public async Task A_viewer_sees_no_admin_pages_and_is_refused_an_admin_url()
    {
        using (var api = browser.Host.Api())
            await api.PostAsJsonAsync("/api/v1/users", new { userName = "vera", displayName = "Vera Viewer", password = "viewer-password", role = "viewer" });
        var page = await browser.SignedInPageAsync("vera", "viewer-password");
        Assert.Equal(0, await page.GetByTestId("nav-admin-keys").CountAsync());
        await page.GotoAsync("/admin/api-keys");
        await Assertions.Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync();
    }
}
