using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>"Open in notebook" on a dataset page and on a model page downloads a filled-in .ipynb (and no key).</summary>
public sealed class NotebooksE2ETests(BrowserFixture browser)
{
    private static async Task<JsonObject> DownloadedNotebookAsync(IPage page, string testId)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId(testId).ClickAsync());
        Assert.EndsWith(".ipynb", download.SuggestedFilename);
        var path = await download.PathAsync();
        var text = await File.ReadAllTextAsync(path!);
        Assert.DoesNotContain(PortalHost.AdminKey, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static string Code(JsonObject nb) => string.Join("\n", nb["cells"]!.AsArray()
        .Where(c => c!["cell_type"]!.GetValue<string>() == "code")
        .Select(c => string.Concat(c!["source"]!.AsArray().Select(l => l!.GetValue<string>()))));

    [Fact]
    public async Task Open_in_notebook_downloads_a_notebook_for_a_dataset_and_for_a_models_training_run()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        var name = LakeSeed.Unique("Bank notebook");
        string datasetId, modelId;
        var modelName = "bank nb " + Guid.NewGuid().ToString("N")[..6];
        using (var api = browser.Host.Api())
        {
            datasetId = await LakeSeed.BankDatasetAsync(browser.Host, api, name, "day % 10 = 0");
            var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{datasetId}"));
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{dataset["schemaId"]}/enable-profile", null)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).StatusCode);
            var created = await api.PostAsJsonAsync("/api/v1/models", new
            {
                name = modelName, recipe = "propensity", source = new { datasetId }, label = new { field = "y", positive = "yes" },
                features = new[] { "age", "balance", "housing", "campaign" },
            });
            modelId = (await PortalHost.JsonAsync(created))["id"]!.GetValue<string>();
            var runId = (await PortalHost.JsonAsync(await api.PostAsync($"/api/v1/models/{modelId}/train", null)))["runId"]!.GetValue<string>();
            var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(4));
            Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        }

        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"/datasets/{datasetId}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("dataset-open-notebook")).ToBeVisibleAsync();
        await page.GetByTestId("dataset-open-notebook").HoverAsync();
        await page.WaitForTimeoutAsync(500);
        await BrowserFixture.ScreenshotAsync(page, "notebook-dataset-button");
        var nb = await DownloadedNotebookAsync(page, "dataset-open-notebook");
        var code = Code(nb);
        Assert.Contains($"DATASET_ID = \"{datasetId}\"", code);
        Assert.Contains("LABEL = \"y\"", code);
        Assert.Contains("IDENTITY_NAMESPACE = \"CRMID\"", code);
        Assert.Contains("API_KEY = os.environ.get(\"EP_API_KEY\")", code);
        Assert.Contains(name, string.Concat(nb["cells"]![0]!["source"]!.AsArray().Select(l => l!.GetValue<string>())));

        await page.GotoAsync($"/models/{modelId}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("model-open-notebook")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(page, "notebook-model-button");
        var runNb = await DownloadedNotebookAsync(page, "model-open-notebook");
        var runCode = Code(runNb);
        Assert.Contains("FEATURES = [\"age\", \"balance\", \"housing\", \"campaign\"]", runCode);
        Assert.Contains("POSITIVE = \"yes\"", runCode);
        Assert.Contains($"MODEL_NAME = \"{modelName}\"", runCode);
        Assert.Equal("training-run", runNb["metadata"]!["enrichment_portal"]!["template"]!.GetValue<string>());
    }
}
