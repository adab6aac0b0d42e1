using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>Wizard step 4 enables Superstore customers for profile; data is put into the lake as committed batches and run
/// through the profile stage; then the profile viewer shows a Superstore customer.</summary>
public sealed class ProfilesE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task Wizard_step_4_enables_profile_then_the_viewer_shows_a_Superstore_customer()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        using var api = browser.Host.Api();
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var customersSchema = await IdAsync(api, "/api/v1/schemas", new
        {
            name = "E2E customers " + suffix, @class = "profile",
            fields = new object[]
            {
                new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "person.name", type = "string" },
                new { path = "segment", type = "string" },
            },
        });
        var ordersSchema = await IdAsync(api, "/api/v1/schemas", new
        {
            name = "E2E orders " + suffix, @class = "event",
            fields = new object[]
            {
                new { path = "timestamp", type = "datetime", required = true },
                new { path = "eventType", type = "string", required = true },
                new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "order.id", type = "string" },
                new { path = "commerce.sales", type = "number" },
            },
        });
        var customers = await IdAsync(api, "/api/v1/datasets", new { name = "E2E customers " + suffix, schemaId = customersSchema });
        var orders = await IdAsync(api, "/api/v1/datasets", new { name = "E2E orders " + suffix, schemaId = ordersSchema });
        (await api.PostAsync($"/api/v1/schemas/{ordersSchema}/enable-profile", null)).EnsureSuccessStatusCode();
        (await api.PostAsync($"/api/v1/datasets/{orders}/enable-profile", null)).EnsureSuccessStatusCode();

        // The host is shared with other E2E tests that make profiles of their own: count from what is there already.
        var before = JsonNode.Parse(await api.GetStringAsync("/api/v1/profiles/stats"))!["profiles"]!.GetValue<long>();

        // Step 4: what will stitch, then enable (one-way).
        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"/wizard?step=4&schema={customersSchema}&dataset={customers}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("wizard-profile-identities")).ToContainTextAsync("CRMID");
        await Assertions.Expect(page.GetByTestId("wizard-one-way")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "wizard-step4-before");
        await page.GetByTestId("wizard-profile-enable").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-profile-enabled")).ToBeVisibleAsync();

        // "Ingestion": committed lake batches, then the profile stage.
        var sandboxId = await SandboxIdAsync();
        var csv = Lit(TestData.Decompressed("superstore/superstore.csv.gz"));
        Commit(sandboxId, customers, "b1", $"""SELECT DISTINCT "Customer ID" AS customerId, "Customer Name" AS "person.name", Segment AS segment FROM read_csv({csv})""");
        Commit(sandboxId, orders, "b1", $"""SELECT CAST("Order Date" AS TIMESTAMP) AS "timestamp", 'order' AS eventType, "Customer ID" AS customerId, "Order ID" AS "order.id", Sales AS "commerce.sales" FROM read_csv({csv})""");
        foreach (var d in new[] { customers, orders })
        {
            var json = JsonNode.Parse(await (await api.PostAsync($"/api/v1/datasets/{d}/reprocess-profile", null)).Content.ReadAsStringAsync())!;
            foreach (var job in json["jobIds"]!.AsArray())
                await PortalHost.PollAsync(api, $"/api/v1/jobs/{job!.GetValue<string>()}", j => j["status"]!.GetValue<string>() == "succeeded");
        }

        await page.ReloadAsync();
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("wizard-profile-stats")).ToContainTextAsync($"{before + 793:N0} profiles");
        await Assertions.Expect(page.GetByTestId("wizard-profile-sample").First).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "wizard-step4-stitched");

        // The profile viewer.
        await page.GotoAsync("/profiles");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("profile-stats-profiles")).ToContainTextAsync($"{before + 793:N0}");
        await page.Locator("input[data-testid=profiles-id], [data-testid=profiles-id] input").First.FillAsync("CG-12520");
        await page.GetByTestId("profiles-search").ClickAsync();
        await Assertions.Expect(page.GetByTestId("profile-card")).ToContainTextAsync("CG-12520", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("profile-attributes")).ToContainTextAsync("Claire Gute");
        await Assertions.Expect(page.GetByTestId("profile-attribute-source").First).ToContainTextAsync("E2E customers");
        await Assertions.Expect(page.GetByTestId("profile-graph-node")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("profile-events-chart")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("profile-event").First).ToContainTextAsync("order");
        await Assertions.Expect(page.GetByTestId("profile-insights-empty")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "profile-viewer");
    }

    private static async Task<string> IdAsync(HttpClient api, string url, object body)
    {
        var response = await api.PostAsJsonAsync(url, body);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToJsonString());
        return json["id"]!.GetValue<string>();
    }

    private async Task<string> SandboxIdAsync()
    {
        using var scope = browser.Host.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<CatalogDb>().Set<Sandbox>().Where(s => s.Name == "prod").Select(s => s.Id).SingleAsync();
    }

    private void Commit(string sandboxId, string datasetId, string batchId, string select)
    {
        var folder = Path.Combine(browser.Host.DataDirectory, "lake", sandboxId, datasetId, batchId);
        Directory.CreateDirectory(folder);
        using (var c = new DuckDBConnection("DataSource=:memory:"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"COPY ({select}) TO {Lit(Path.Combine(folder, "part-00000.parquet"))} (FORMAT parquet)";
            cmd.ExecuteNonQuery();
        }
        File.WriteAllText(Path.Combine(folder, "_SUCCESS"), "");
    }

    private static string Lit(string s) => "'" + s.Replace("'", "''") + "'";
}
