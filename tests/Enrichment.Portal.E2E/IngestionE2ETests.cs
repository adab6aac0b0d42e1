using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

public sealed class IngestionE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task Wizard_step_3_uploads_superstore_maps_it_and_stores_9994_records()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        string schemaId, datasetId;
        using (var api = browser.Host.Api())
        {
            var suffix = Guid.NewGuid().ToString("N")[..8];
            var schema = await api.PostAsJsonAsync("/api/v1/schemas", new
            {
                name = "Superstore orders " + suffix, @class = "profile",
                fields = new object[]
                {
                    new { path = "rowId", type = "integer", required = true }, new { path = "orderId", type = "string", required = true },
                    new { path = "orderDate", type = "date" }, new { path = "shipDate", type = "date" }, new { path = "shipMode", type = "string" },
                    new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                    new { path = "customerName", type = "string" }, new { path = "segment", type = "string" },
                    new { path = "sales", type = "number" }, new { path = "quantity", type = "integer" }, new { path = "profit", type = "number" },
                },
            });
            schemaId = (await schema.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            var dataset = await api.PostAsJsonAsync("/api/v1/datasets", new { name = "Superstore " + suffix, schemaId });
            datasetId = (await dataset.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        }

        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"/wizard?step=3&schema={schemaId}&dataset={datasetId}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("wizard-ingest-step")).ToBeVisibleAsync();
        await page.Locator("[data-testid=upload-panel] input[type=file]").SetInputFilesAsync(TestData.Shipped("superstore/superstore.csv.gz"));
        await Assertions.Expect(page.GetByTestId("upload-stored-preview")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("upload-mapping")).ToContainTextAsync("Order Date");
        await Assertions.Expect(page.GetByTestId("upload-stored-preview")).ToContainTextAsync("CA-2016-152156");
        await BrowserFixture.ScreenshotAsync(page, "wizard-step3-mapping");

        await page.GetByTestId("upload-ingest").ClickAsync();
        await Assertions.Expect(page.GetByTestId("batch-progress")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "wizard-step3-progress");
        await Assertions.Expect(page.Locator("[data-testid=batch-progress][data-status=success]")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await Assertions.Expect(page.GetByTestId("batch-records-written")).ToHaveTextAsync("9,994");
        await Assertions.Expect(page.GetByTestId("wizard-ingest-done")).ToContainTextAsync("9,994 records");
        await BrowserFixture.ScreenshotAsync(page, "wizard-step3-done");

        await page.GotoAsync($"/datasets/{datasetId}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("dataset-records")).ToContainTextAsync("9,994");
        await Assertions.Expect(page.GetByTestId("batches-grid")).ToContainTextAsync("superstore.csv.gz");
        await Assertions.Expect(page.GetByTestId("stored-records")).ToContainTextAsync("CA-2016-152156");
        await BrowserFixture.ScreenshotAsync(page, "dataset-with-batches");

        await page.GotoAsync("/ingestion");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("batches-grid")).ToContainTextAsync("9,994 stored");
        await BrowserFixture.ScreenshotAsync(page, "ingestion-page");
    }

    [Fact]
    public async Task On_a_dataset_page_the_columns_the_schema_lacks_are_added_with_inferred_types_and_then_stored()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        string datasetId, schemaId;
        using (var api = browser.Host.Api())
        {
            var suffix = Guid.NewGuid().ToString("N")[..8];
            var schema = await api.PostAsJsonAsync("/api/v1/schemas", new
            {
                name = "Orders, three fields " + suffix, @class = "profile",
                fields = new object[]
                {
                    new { path = "orderId", type = "string", required = true }, new { path = "sales", type = "number" },
                    new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                },
            });
            schemaId = (await schema.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            var dataset = await api.PostAsJsonAsync("/api/v1/datasets", new { name = "Orders " + suffix, schemaId });
            datasetId = (await dataset.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        }

        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"/datasets/{datasetId}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await page.Locator("[data-testid=upload-panel] input[type=file]").SetInputFilesAsync(TestData.Shipped("superstore/superstore.csv.gz"));
        await Assertions.Expect(page.GetByTestId("upload-stored-preview")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        // 21 columns, 3 of them mapped by name: 18 are not stored until the schema has fields for them.
        await Assertions.Expect(page.GetByTestId("upload-not-stored")).ToContainTextAsync("18 columns of this file are not stored");
        await page.GetByTestId("upload-add-columns").ClickAsync();
        await Assertions.Expect(page.GetByTestId("upload-added-fields")).ToContainTextAsync("Added 18 fields", new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("upload-added-fields")).ToContainTextAsync("orderDate (date)");
        await Assertions.Expect(page.GetByTestId("upload-not-stored")).ToHaveCountAsync(0);
        Assert.Equal(0, await page.Locator("[data-testid=upload-mapping] .mud-select:has-text('(not stored)')").CountAsync());
        await BrowserFixture.ScreenshotAsync(page, "upload-columns-added");

        await page.GetByTestId("upload-ingest").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=batch-progress][data-status=success]")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        using var check = browser.Host.Api();
        var stored = await check.GetFromJsonAsync<JsonObject>($"/api/v1/schemas/{schemaId}");
        Assert.Equal(21, stored!["fields"]!.AsArray().Count);
        Assert.Equal(2, stored["version"]!.GetValue<int>());
    }
}
