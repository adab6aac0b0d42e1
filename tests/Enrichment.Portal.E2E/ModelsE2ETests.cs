using System.Globalization;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

public sealed class ModelsE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task Wizard_step_5_trains_a_propensity_model_on_bank_marketing_after_excluding_the_leaking_duration()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        var datasetName = LakeSeed.Unique("Bank marketing");
        using (var api = browser.Host.Api())
            await LakeSeed.BankDatasetAsync(browser.Host, api, datasetName);

        var page = await browser.SignedInPageAsync();
        await page.GotoAsync("/wizard?step=5");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("wizard-train-step")).ToBeVisibleAsync();

        // Recipe: propensity, with its plain explanation.
        await Assertions.Expect(page.GetByTestId("recipe-card-propensity")).ToContainTextAsync("how likely each customer is");
        await page.GetByTestId("recipe-propensity").ClickAsync();
        await page.Locator("input[data-testid=model-name], [data-testid=model-name] input").First.FillAsync("bank-propensity");

        // Source: the Bank Marketing dataset; label y with positive value yes.
        await page.GetByTestId("model-source").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = datasetName, Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("model-label")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await page.GetByTestId("model-label").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "y", Exact = true }).ClickAsync();

        // The exploration statistics flag duration as a possible leak for y, right where the features are chosen.
        var leak = page.GetByTestId("leak-warning-duration");
        await Assertions.Expect(leak).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(leak).ToContainTextAsync("predicts y almost perfectly");
        await Assertions.Expect(page.GetByTestId("model-label-positive")).ToContainTextAsync("yes");
        await BrowserFixture.ScreenshotAsync(page, "wizard-5-leak-warning");
        await page.GetByTestId("exclude-duration").ClickAsync();
        await Assertions.Expect(page.GetByTestId("excluded-duration")).ToBeVisibleAsync();
        Assert.False(await page.Locator("input[data-testid=feature-duration], [data-testid=feature-duration] input").First.IsCheckedAsync());
        await BrowserFixture.ScreenshotAsync(page, "wizard-5-form");

        // Train and watch it run to the end.
        await page.GetByTestId("model-train").ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-progress")).ToBeVisibleAsync();
        await page.WaitForTimeoutAsync(3000);
        await BrowserFixture.ScreenshotAsync(page, "wizard-5-training");
        await Assertions.Expect(page.GetByTestId("wizard-train-done")).ToBeVisibleAsync(new() { Timeout = 240_000 });
        var auc = double.Parse(await page.GetByTestId("metric-auc-value").InnerTextAsync(), CultureInfo.InvariantCulture);
        Assert.True(auc >= 0.79, $"AUC shown {auc}");
        await Assertions.Expect(page.GetByTestId("model-grade")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "wizard-5-result");

        // The model page: the version is active, metrics and charts are there.
        await page.GetByTestId("wizard-open-model").ClickAsync();
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("active-1")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("chart-roc")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("confusion-matrix")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("model-definition")).ToContainTextAsync("excluding duration");
        await BrowserFixture.ScreenshotAsync(page, "model-page");

        await page.GotoAsync("/models");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("model-link-bank-propensity")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "models-list");
    }
}
