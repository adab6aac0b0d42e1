using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>
/// Destination pages in Chromium: a scheduled Parquet file destination created from an audience, run now, its run in the
/// history (members, bytes, duration) and the file on disk; a webhook destination whose secret is shown once (not on its page
/// afterwards), a webhook to the metadata address refused with the reason, the list.
/// </summary>
public sealed class DestinationsE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task Destinations_are_created_run_and_listed_in_the_ui()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        // A sandbox of its own: other tests' profiles (bank customers have an age too) stay out of the audience.
        var tag = Guid.NewGuid().ToString("N")[..8];
        var sandbox = "dest" + tag;
        using var api = browser.Host.Api(await browser.Host.KeyAsync("admin", sandbox));
        var schema = (await (await api.PostAsJsonAsync("/api/v1/schemas", new
        {
            name = "Dest people " + tag, @class = "profile",
            fields = new object[]
            {
                new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "age", type = "integer" },
            },
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        var schemaId = schema["id"]!.GetValue<string>();
        (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).EnsureSuccessStatusCode();
        var dataset = (await (await api.PostAsJsonAsync("/api/v1/datasets", new { name = "Dest people " + tag, schemaId })).Content.ReadFromJsonAsync<JsonObject>())!;
        var datasetId = dataset["id"]!.GetValue<string>();
        (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync($"/api/v1/collection/{datasetId}", Enumerable.Range(1, 5).Select(i => new { id = $"D-{tag}-{i}", age = 40 + i }).ToArray())).EnsureSuccessStatusCode();
        await PortalHost.PollAsync(api, $"/api/v1/profiles?namespace=CRMID&id=D-{tag}-5", p => p["profileId"] is not null, TimeSpan.FromSeconds(60));
        var segment = (await (await api.PostAsJsonAsync("/api/v1/segments", new
        {
            name = "Dest over 42 " + tag, evaluate = true, rule = new { all = new object[] { new { attribute = "age", op = "gt", value = 42 }, new { identity = "CRMID", op = "exists" } } },
        })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        await PortalHost.PollAsync(api, $"/api/v1/segments/{segment}", s => s["status"]!.GetValue<string>() == "ready", TimeSpan.FromSeconds(60));

        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"{browser.Host.BaseUri}account/sandbox/{sandbox}?returnUrl={Uri.EscapeDataString("/audiences/" + segment)}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await page.GetByTestId("audience-new-destination").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/destinations/new", StringComparison.Ordinal));
        await BrowserFixture.WaitForBlazorAsync(page);
        await page.Locator("[data-testid=destination-name] input, input[data-testid=destination-name]").First.FillAsync("Over 42 parquet " + tag);
        await page.Locator("[data-testid=destination-target] input, input[data-testid=destination-target]").First.FillAsync("e2e-dest-" + tag);
        await page.GetByTestId("destination-format").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Parquet", Exact = true }).ClickAsync();
        await page.Locator("[data-testid=destination-identities] input, input[data-testid=destination-identities]").First.FillAsync("CRMID");
        await page.Locator("[data-testid=destination-attributes] input, input[data-testid=destination-attributes]").First.FillAsync("age");
        await page.Locator("[data-testid=destination-cron] input, input[data-testid=destination-cron]").First.FillAsync("not a cron");
        await page.GetByTestId("destination-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("destination-errors")).ToContainTextAsync("cron");
        await page.Locator("[data-testid=destination-cron] input, input[data-testid=destination-cron]").First.FillAsync("0 3 * * *");
        await BrowserFixture.ScreenshotAsync(page, "destinations-new-file");
        await page.GetByTestId("destination-save").ClickAsync();
        await page.WaitForURLAsync(u => !u.Contains("/new", StringComparison.Ordinal), new() { Timeout = 15000 });
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("destination-summary")).ToContainTextAsync("0 3 * * * (UTC)");

        await page.GetByTestId("destination-run").ClickAsync();
        await Assertions.Expect(page.GetByTestId("destination-run-status").First).ToHaveTextAsync("succeeded", new() { Timeout = 30000 });
        await Assertions.Expect(page.GetByTestId("destination-run-members").First).ToHaveTextAsync("3");
        var file = (await page.GetByTestId("destination-run-file").First.InnerTextAsync()).Trim();
        Assert.EndsWith(".parquet", file);
        Assert.True(File.Exists(file), file);
        Assert.Equal(new FileInfo(file).Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), (await page.GetByTestId("destination-run-bytes").First.InnerTextAsync()).Trim());
        await BrowserFixture.ScreenshotAsync(page, "destinations-detail-file");

        // A webhook: the metadata address is refused; a public URL is saved and its secret shown once.
        await page.GotoAsync($"{browser.Host.BaseUri}destinations/new?segment={segment}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await page.GetByTestId("destination-type").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Webhook (signed JSON batches)", Exact = true }).ClickAsync();
        await page.Locator("[data-testid=destination-name] input, input[data-testid=destination-name]").First.FillAsync("Over 42 hook " + tag);
        await page.Locator("[data-testid=destination-target] input, input[data-testid=destination-target]").First.FillAsync("http://169.254.169.254/latest/meta-data/");
        await page.Locator("[data-testid=destination-rate-limit] input, input[data-testid=destination-rate-limit]").First.FillAsync("20");
        await page.GetByTestId("destination-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("destination-errors")).ToContainTextAsync("link-local");
        await page.Locator("[data-testid=destination-target] input, input[data-testid=destination-target]").First.FillAsync("https://hooks.example.com/portal/" + tag);
        await page.GetByTestId("destination-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("destination-secret")).ToContainTextAsync("whsec_");
        var secret = (await page.GetByTestId("destination-secret").InnerTextAsync()).Trim();
        await BrowserFixture.ScreenshotAsync(page, "destinations-webhook-secret");
        await page.GetByTestId("destination-open").ClickAsync();
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("destination-summary")).ToContainTextAsync("at most 20 per second");
        await Assertions.Expect(page.GetByTestId("dead-letters-empty")).ToBeVisibleAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync());

        await page.GotoAsync($"{browser.Host.BaseUri}destinations");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("destination-row").Filter(new() { HasText = tag })).ToHaveCountAsync(2);
        await BrowserFixture.ScreenshotAsync(page, "destinations-list");
    }
}
