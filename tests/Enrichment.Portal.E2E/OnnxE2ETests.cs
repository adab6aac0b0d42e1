using System.Net.Http.Json;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>A model trained elsewhere, as a person deploys it: upload the .onnx on a custom model's page, review the pre-matched mapping, deploy, score, see the insight on a profile.</summary>
public sealed class OnnxE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task Upload_map_and_score_an_onnx_model_then_see_its_insight_on_a_profile()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        string datasetId, customerId, modelId;
        var modelName = "onnx-lr-" + Guid.NewGuid().ToString("N")[..6];
        using (var api = browser.Host.Api())
        {
            (datasetId, _, customerId) = await ScoringE2ETests.BankProfilesAsync(api);
            var created = await api.PostAsJsonAsync("/api/v1/models", new { name = modelName, recipe = "custom", source = new { datasetId } });
            modelId = (await PortalHost.JsonAsync(created))["id"]!.GetValue<string>();
        }

        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"/models/{modelId}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("onnx-upload")).ToBeVisibleAsync();
        Assert.Equal(0, await page.GetByTestId("model-retrain").CountAsync());
        await page.Locator("[data-testid=onnx-upload] input[type=file]").SetInputFilesAsync(TestData.Shipped("onnx/logreg.onnx"));
        await Assertions.Expect(page.GetByTestId("onnx-mapping")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("onnx-input-age")).ToContainTextAsync("[N,1]");
        await Assertions.Expect(page.GetByTestId("onnx-input-duration")).ToContainTextAsync("duration");
        await Assertions.Expect(page.GetByTestId("onnx-output-probabilities")).ToBeVisibleAsync();
        await page.EvaluateAsync("document.querySelector('[data-testid=onnx-upload]').scrollIntoView()");
        await page.EvaluateAsync("window.scrollBy(0, -70)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "onnx-upload-mapping.png") });

        await page.GetByTestId("onnx-deploy").ClickAsync();
        await Assertions.Expect(page.GetByTestId("active-1")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("version-1")).ToContainTextAsync("onnx");

        await page.GetByTestId("scoring-target").ClickAsync();
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "(training source)" }).ClickAsync();
        await page.GetByTestId("scoring-score-now").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=scoring-run][data-status=succeeded]").First).ToBeVisibleAsync(new() { Timeout = 180_000 });
        await BrowserFixture.ScreenshotAsync(page, "onnx-model-page");

        await page.GotoAsync($"/profiles?namespace=CRMID&id={Uri.EscapeDataString(customerId)}");
        await BrowserFixture.WaitForBlazorAsync(page);
        var card = page.Locator($"[data-testid=profile-insights] [data-testid=insight-card][data-name='{modelName}']");
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(card.GetByTestId("insight-score-value")).ToContainTextAsync("%");
        await BrowserFixture.ScreenshotAsync(page, "onnx-profile-insight");
    }
}
