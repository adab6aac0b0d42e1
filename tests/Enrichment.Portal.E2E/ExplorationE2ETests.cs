using Enrichment.Portal.Web.Tests.Api;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

public sealed class ExplorationE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task A_scientist_explores_bank_marketing_with_target_y_and_sees_the_leak_warning_on_duration()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        var bank = await LakeTestData.BankAsync(browser.Host);
        var page = await browser.SignedInPageAsync();

        await page.GotoAsync("/explore");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("explore-run")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "explore-start");

        await page.GotoAsync($"/explore?dataset={bank.Id}&target=y");
        await BrowserFixture.WaitForBlazorAsync(page);
        var duration = page.GetByTestId("column-card-duration");
        await Assertions.Expect(duration).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(duration.GetByTestId("column-warning-possible-leak")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("explore-rows")).ToContainTextAsync("45,211 rows");
        await Assertions.Expect(page.GetByTestId("ranking-row-duration")).ToContainTextAsync("possible-leak");
        await Assertions.Expect(duration.GetByTestId("column-histogram").Locator("svg").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "explore-bank-target-y");

        await duration.GetByTestId("column-warning-possible-leak").HoverAsync();
        await Assertions.Expect(page.GetByText("is it known before the outcome?")).ToBeVisibleAsync();
        await duration.ScrollIntoViewIfNeededAsync();
        await BrowserFixture.ScreenshotAsync(page, "explore-leak-tooltip");
    }

    [Fact]
    public async Task A_scientist_runs_a_query_and_downloads_the_result_as_csv()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        var bank = await LakeTestData.BankAsync(browser.Host);
        var page = await browser.SignedInPageAsync();

        await page.GotoAsync("/query");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId($"query-table-{bank.Table}")).ToBeVisibleAsync();
        var editor = page.Locator("textarea").First;
        await editor.FillAsync($"SELECT job, count(*) AS people FROM {bank.Table} GROUP BY job ORDER BY people DESC, job");
        await editor.PressAsync("Control+Enter");
        await Assertions.Expect(page.GetByTestId("query-status")).ToContainTextAsync("12 rows", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("query-results")).ToContainTextAsync("blue-collar");
        await BrowserFixture.ScreenshotAsync(page, "query-results");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("query-download").ClickAsync());
        Assert.EndsWith(".csv", download.SuggestedFilename);
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("job,people", lines[0]);
        Assert.Equal("blue-collar,9732", lines[1]);
        Assert.Equal(13, lines.Length);

        await editor.FillAsync("ATTACH '/tmp/x.duckdb' AS x");
        await page.GetByTestId("query-run").ClickAsync();
        await Assertions.Expect(page.GetByTestId("query-error")).ToContainTextAsync("Only a single read-only SELECT");
        await Assertions.Expect(page.GetByTestId("query-history-item").First).ToContainTextAsync("ATTACH");
        await BrowserFixture.ScreenshotAsync(page, "query-rejected");
    }
}
