using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>
/// The end of the guided path, as a person walks it: train on a small profile-enabled Bank Marketing dataset (step 5), score it
/// (step 6), see the insights on a profile (step 7); then the model page's scoring section, the profile viewer, importing
/// scores from another tool, and the home page's progress.
/// </summary>
public sealed class ScoringE2ETests(BrowserFixture browser)
{
    private const int Rows = 4000;

    /// <summary>A full-page screenshot from the top (the app bar is fixed: a scrolled page would show it half way down).</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await BrowserFixture.ScreenshotAsync(page, name);
    }

    /// <summary>A profile-enabled dataset holding <see cref="Rows"/> Bank Marketing customers (a fixed sample), ingested through the API.</summary>
    /// <returns>The dataset, its name and a customer id of it.</returns>
    internal static async Task<(string DatasetId, string Name, string CustomerId)> BankProfilesAsync(HttpClient api)
    {
        var name = LakeSeed.Unique("Bank customers");
        var schema = await api.PostAsJsonAsync("/api/v1/schemas", new { name = name + " schema", @class = "profile", fields = LakeSeed.BankFields });
        var schemaId = (await PortalHost.JsonAsync(schema))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).StatusCode);
        var dataset = await api.PostAsJsonAsync("/api/v1/datasets", new { name, schemaId });
        var datasetId = (await PortalHost.JsonAsync(dataset))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).StatusCode);

        var csv = Path.Combine(Path.GetTempPath(), $"ep-e2e-bank-{Guid.NewGuid():N}.csv");
        string customerId;
        try
        {
            LakeSeed.Sql($"COPY (SELECT * FROM read_parquet('{LakeSeed.BankParquet()}') ORDER BY hash(customerId) LIMIT {Rows}) TO '{csv}' (HEADER, DELIMITER ',')");
            customerId = File.ReadLines(csv).Skip(1).First().Split(',')[0];
            using var form = new MultipartFormDataContent();
            var content = new StreamContent(File.OpenRead(csv));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            form.Add(content, "file", "bank-customers.csv");
            var upload = await api.PostAsync($"/api/v1/datasets/{datasetId}/batches", form);
            var batchId = (await PortalHost.JsonAsync(upload))["id"]!.GetValue<string>();
            var batch = await PortalHost.PollAsync(api, $"/api/v1/batches/{batchId}", b => b["status"]!.GetValue<string>() is "success" or "failed");
            Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());
        }
        finally { File.Delete(csv); }
        return (datasetId, name, customerId);
    }

    [Fact]
    public async Task Wizard_steps_6_and_7_score_the_trained_model_and_show_its_insights_on_a_profile()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        string datasetName, customerId;
        using (var api = browser.Host.Api())
            (_, datasetName, customerId) = await BankProfilesAsync(api);
        var modelName = "bank-propensity-" + Guid.NewGuid().ToString("N")[..6];

        // Step 5: train a propensity model on the small dataset (duration excluded: it leaks the outcome).
        var page = await browser.SignedInPageAsync();
        await page.GotoAsync("/wizard?step=5");
        await BrowserFixture.WaitForBlazorAsync(page);
        await page.GetByTestId("recipe-propensity").ClickAsync();
        await page.Locator("input[data-testid=model-name], [data-testid=model-name] input").First.FillAsync(modelName);
        await page.GetByTestId("model-source").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = datasetName, Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("model-label")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await page.GetByTestId("model-label").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "y", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("model-label-positive")).ToContainTextAsync("yes", new() { Timeout = 60_000 });
        var exclude = page.GetByTestId("exclude-duration");
        if (await exclude.IsVisibleAsync()) await exclude.ClickAsync();
        await page.GetByTestId("model-train").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-train-done")).ToBeVisibleAsync(new() { Timeout = 240_000 });

        // Step 6: the model of step 5 is chosen, the target is the data it learned from; score and watch it.
        await page.GetByTestId("wizard-next-score").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-score-step")).ToBeVisibleAsync();
        Assert.Contains("step=6", page.Url);
        await Assertions.Expect(page.GetByTestId("wizard-score-model")).ToContainTextAsync(modelName);
        await Assertions.Expect(page.GetByTestId("wizard-score-target")).ToContainTextAsync(datasetName);
        await Assertions.Expect(page.GetByTestId("wizard-next-insights")).ToBeDisabledAsync();
        await ScreenshotAsync(page, "wizard-6-score");
        await page.GetByTestId("wizard-score-start").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-score-run")).ToBeVisibleAsync();
        await ScreenshotAsync(page, "wizard-6-scoring");
        await Assertions.Expect(page.GetByTestId("wizard-score-done")).ToBeVisibleAsync(new() { Timeout = 180_000 });
        await Assertions.Expect(page.GetByTestId("wizard-score-rows")).ToContainTextAsync($"{Rows:N0} rows scored");
        await Assertions.Expect(page.Locator("[data-testid=scoring-distribution] svg")).ToBeVisibleAsync();
        await ScreenshotAsync(page, "wizard-6-scored");

        // Step 7: a scored profile, its attributes next to its insights, with the model version linked to the model page.
        await page.GetByTestId("wizard-next-insights").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-insights-step")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("wizard-insights-sample").First).ToBeVisibleAsync();
        var card = page.Locator($"[data-testid=wizard-insights-cards] [data-testid=insight-card][data-name='{modelName}']");
        await Assertions.Expect(card).ToBeVisibleAsync();
        await Assertions.Expect(card.GetByTestId("insight-score-value")).ToContainTextAsync("%");
        await Assertions.Expect(card.GetByTestId("insight-model-link")).ToContainTextAsync($"{modelName} v1");
        await Assertions.Expect(page.GetByTestId("wizard-insights-attributes")).ToContainTextAsync("customerId");
        await ScreenshotAsync(page, "wizard-7-insights");

        // The profile viewer shows the same insight as a card.
        await page.GetByTestId("wizard-insights-open-profile").ClickAsync();
        await BrowserFixture.WaitForBlazorAsync(page);
        var viewerCard = page.Locator($"[data-testid=profile-insights] [data-testid=insight-card][data-name='{modelName}']");
        await Assertions.Expect(viewerCard).ToBeVisibleAsync();
        // The score's top 3 reasons (feature and direction), from the scoring run.
        await Assertions.Expect(viewerCard.GetByTestId("insight-reason")).ToHaveCountAsync(3);
        await ScreenshotAsync(page, "profile-viewer-insights");

        // The model page: the run in the list, the distribution and PSI charts, a schedule, one profile scored on demand.
        await viewerCard.GetByTestId("insight-model-link").ClickAsync();
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("scoring-section")).ToBeVisibleAsync();
        var run = page.Locator("[data-testid=scoring-run][data-status=succeeded]").First;
        await Assertions.Expect(run).ToBeVisibleAsync();
        await Assertions.Expect(run.GetByTestId("scoring-run-rows")).ToHaveTextAsync($"{Rows:N0}");
        await Assertions.Expect(page.Locator("[data-testid=scoring-distribution] svg")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("scoring-psi")).ToContainTextAsync("PSI");
        await page.Locator("input[data-testid=schedule-cron], [data-testid=schedule-cron] input").First.FillAsync("0 3 * * *");
        await Assertions.Expect(page.GetByTestId("schedule-description")).ToHaveTextAsync("Scores every day at 03:00 UTC.");
        await page.GetByTestId("schedule-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("schedule-current")).ToContainTextAsync("0 3 * * *");
        await page.Locator("input[data-testid=predict-id], [data-testid=predict-id] input").First.FillAsync(customerId);
        await page.GetByTestId("predict-run").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=predict-result] [data-testid=insight-score-value]")).ToContainTextAsync("%");
        // The section as a person sees it in the window (the app bar stays on top).
        await page.EvaluateAsync("document.querySelector('[data-testid=scoring-section]').scrollIntoView()");
        await page.EvaluateAsync("window.scrollBy(0, -70)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "model-page-scoring-section.png") });
        await page.EvaluateAsync("window.scrollBy(0, 820)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "model-page-scoring-schedule.png") });
        await ScreenshotAsync(page, "model-page-scoring");

        // The home page: steps 6 and 7 are done.
        await page.GotoAsync("/");
        await BrowserFixture.WaitForBlazorAsync(page);
        await ScreenshotAsync(page, "home-steps-6-7");
        using (var api = browser.Host.Api())
        {
            var profile = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id={customerId}"));
            var score = profile["insights"]![modelName]!["score"]!.GetValue<double>();
            Assert.InRange(score, 0, 1);
        }
    }

    [Fact]
    public async Task Import_scores_page_maps_a_csv_onto_profiles_and_lists_rejected_rows()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        var tag = Guid.NewGuid().ToString("N")[..6];
        var csv = Path.Combine(Path.GetTempPath(), $"ep-e2e-{tag}", "notebook churn.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(csv)!);
        await File.WriteAllTextAsync(csv, "customer_id,churn_probability,segment,favourite_products,scored_at\n" +
            string.Concat(Enumerable.Range(1, 30).Select(i => $"BYO-{tag}-{i},{(i == 4 ? "high" : (i % 10 / 10.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture))},{(i % 2 == 0 ? "Loyal" : "At risk")},shoes|bags,2026-01-05T10:00:00Z\n")));
        try
        {
            var page = await browser.SignedInPageAsync();
            await page.GotoAsync("/models");
            await BrowserFixture.WaitForBlazorAsync(page);
            await page.GetByTestId("models-import-scores").ClickAsync();
            await Assertions.Expect(page.GetByTestId("byo-page")).ToBeVisibleAsync();
            await ScreenshotAsync(page, "import-scores-empty");
            await page.Locator("[data-testid=byo-page] input[type=file]").SetInputFilesAsync(csv);
            await Assertions.Expect(page.GetByTestId("byo-mapping")).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Assertions.Expect(page.GetByTestId("byo-file-preview")).ToContainTextAsync($"BYO-{tag}-1");
            // Suggested: the identity column in CRMID, the probability as a score, the segment, the product list as top items, scoredAt.
            await Assertions.Expect(page.GetByTestId("byo-identity-column")).ToContainTextAsync("customer_id");
            await Assertions.Expect(page.GetByTestId("byo-field-churn_probability")).ToContainTextAsync("score");
            await Assertions.Expect(page.GetByTestId("byo-field-favourite_products")).ToContainTextAsync("top");
            await Assertions.Expect(page.GetByTestId("byo-preview-reject")).ToContainTextAsync("'high' is not a number");
            var name = page.Locator("input[data-testid=byo-name], [data-testid=byo-name] input").First;
            await name.FillAsync("bad/name");
            await Assertions.Expect(page.GetByTestId("byo-import")).ToBeDisabledAsync();
            await name.FillAsync("notebook churn " + tag);
            await Assertions.Expect(page.GetByTestId("byo-import")).ToBeEnabledAsync();
            await ScreenshotAsync(page, "import-scores-mapping");

            await page.GetByTestId("byo-import").ClickAsync();
            await Assertions.Expect(page.GetByTestId("byo-done")).ToBeVisibleAsync(new() { Timeout = 120_000 });
            await Assertions.Expect(page.GetByTestId("batch-records-written")).ToHaveTextAsync("29");
            await Assertions.Expect(page.GetByTestId("byo-rejected-row")).ToContainTextAsync("'high' is not a number");
            await Assertions.Expect(page.GetByTestId("byo-rejected-row")).ToContainTextAsync("4");
            await ScreenshotAsync(page, "import-scores-done");

            await page.GetByTestId("byo-sample-profile").ClickAsync();
            await BrowserFixture.WaitForBlazorAsync(page);
            var card = page.Locator($"[data-testid=insight-card][data-name='notebook churn {tag}']");
            await Assertions.Expect(card).ToBeVisibleAsync();
            await Assertions.Expect(card.GetByTestId("insight-version")).ToContainTextAsync("external");
            await Assertions.Expect(card.GetByTestId("insight-top")).ToContainTextAsync("shoes");
            await ScreenshotAsync(page, "profile-viewer-imported-insights");
        }
        finally { Directory.Delete(Path.GetDirectoryName(csv)!, true); }
    }
}
