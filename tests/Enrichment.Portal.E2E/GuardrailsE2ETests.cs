using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

public sealed class GuardrailsE2ETests(BrowserFixture browser)
{
    private static string Id(JsonObject o) => o["id"]!.GetValue<string>();

    [Fact]
    public async Task An_ingested_batch_moves_through_its_stages_on_the_guardrails_and_latency_panel()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        using var api = browser.Host.Api();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var schema = (await (await api.PostAsJsonAsync("/api/v1/schemas", new
        {
            name = "Retail purchases " + suffix, @class = "event",
            fields = new object[]
            {
                new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "timestamp", type = "datetime", required = true }, new { path = "eventType", type = "string", required = true },
                new { path = "invoiceNo", type = "string" }, new { path = "stockCode", type = "string" }, new { path = "quantity", type = "integer" },
                new { path = "unitPrice", type = "number" }, new { path = "country", type = "string" },
            },
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        (await api.PostAsync($"/api/v1/schemas/{Id(schema)}/enable-profile", null)).EnsureSuccessStatusCode();
        var dataset = (await (await api.PostAsJsonAsync("/api/v1/datasets", new { name = "Online Retail " + suffix, schemaId = Id(schema) })).Content.ReadFromJsonAsync<JsonObject>())!;
        (await api.PostAsync($"/api/v1/datasets/{Id(dataset)}/enable-profile", null)).EnsureSuccessStatusCode();

        var page = await browser.SignedInPageAsync();
        await page.GetByTestId("nav").GetByText("Guardrails & latency").ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/guardrails"));
        await Assertions.Expect(page.GetByTestId("guardrails-table")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("guardrail-status-identities-per-graph")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("latency-panel")).ToBeVisibleAsync();

        // Upload Online Retail (541,909 rows) through the API and watch its row on the timeline.
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(TestData.Shipped("online_retail/online_retail.csv.gz")));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "online_retail.csv.gz");
        form.Add(new StringContent("""{"CustomerID":"customerId","InvoiceDate":"timestamp","InvoiceNo":"invoiceNo","StockCode":"stockCode","Quantity":"quantity","UnitPrice":"unitPrice","Country":"country"}"""), "mapping");
        form.Add(new StringContent("""{"eventType":"purchase"}"""), "constants");
        form.Add(new StringContent("yyyy-MM-dd HH:mm:ss"), "timestampFormat");
        var accepted = (await (await api.PostAsync($"/api/v1/datasets/{Id(dataset)}/batches", form)).Content.ReadFromJsonAsync<JsonObject>())!;
        var batchId = Id(accepted);

        var row = page.Locator($"[data-testid=latency-row][data-batch-id='{batchId}']");
        var seen = new List<string>();
        var shot = false;
        var until = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < until)
        {
            var stage = await row.CountAsync() == 1 ? await row.GetAttributeAsync("data-stage") : null;
            if (stage is not null && (seen.Count == 0 || seen[^1] != stage)) seen.Add(stage);
            if (stage is not null and not "done" && !shot)
            {
                await Assertions.Expect(page.Locator("[data-testid=latency-in-flight-item]").First).ToBeVisibleAsync();
                await BrowserFixture.ScreenshotAsync(page, "guardrails-latency-in-flight");
                shot = true;
            }
            if (stage == "done") break;
            await page.WaitForTimeoutAsync(250);
        }
        Assert.True(seen.Count >= 2 && seen[^1] == "done", "stages seen: " + string.Join(" -> ", seen));
        Assert.Contains(seen, s => s is "queued" or "upload" or "validate" or "lake" or "identity" or "profile");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-status", "success");
        foreach (var name in new[] { "upload", "validate", "lake", "identity", "profile" })
            await Assertions.Expect(row.Locator($"[data-stage-name={name}]")).ToHaveAttributeAsync("data-stage-status", "success");
        // The audiences stage (#15) is recorded only when the sandbox has audiences: other tests of this host may have made one.
        var bars = row.Locator("[data-testid=latency-stage-bar]");
        var audienceStages = await row.Locator("[data-stage-name=audiences]").CountAsync();
        await Assertions.Expect(bars).ToHaveCountAsync(5 + audienceStages);
        if (audienceStages == 1)
            await Assertions.Expect(row.Locator("[data-stage-name=audiences]")).ToHaveAttributeAsync("data-stage-status", "success");
        await Assertions.Expect(page.GetByTestId("latency-in-flight-count")).ToHaveTextAsync("0", new() { Timeout = 15_000 });
        await Assertions.Expect(page.GetByTestId("latency-p50")).Not.ToHaveTextAsync("—", new() { Timeout = 15_000 });
        await Assertions.Expect(page.GetByTestId("latency-stage-profile-p50")).Not.ToHaveTextAsync("—");

        // Customer 17841 has 7,983 events: the soft limit of 5,000 events per profile is exceeded.
        await page.GetByTestId("guardrails-refresh").ClickAsync();
        await Assertions.Expect(page.GetByTestId("guardrail-status-events-per-profile")).ToHaveTextAsync("exceeded", new() { Timeout = 15_000 });
        await Assertions.Expect(page.GetByTestId("guardrail-usage-events-per-profile")).ToHaveTextAsync("7,983 of 5,000 events");
        await BrowserFixture.ScreenshotAsync(page, "guardrails-latency-done");

        // The last week still holds the batch; dark theme stays legible.
        await page.GetByTestId("latency-window-168").ClickAsync();
        await Assertions.Expect(page.GetByTestId("latency-batches")).Not.ToHaveTextAsync("0");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await page.ReloadAsync();
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(row).ToHaveAttributeAsync("data-stage", "done");
        await BrowserFixture.ScreenshotAsync(page, "guardrails-latency-dark");

        // The sandbox home lists the guardrails near or over their limit, with a link to the page.
        await page.GotoAsync("/");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=home-guardrail][data-key=events-per-profile]")).ToHaveAttributeAsync("data-status", "exceeded");
        await BrowserFixture.ScreenshotAsync(page, "home-guardrails");
        await page.GetByTestId("home-guardrails-link").ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/guardrails"));
    }
}
