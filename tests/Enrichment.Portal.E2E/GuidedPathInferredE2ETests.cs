using System.Net.Http.Json;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>
/// The guided path with a schema inferred from the user's own file (Superstore), clicking only what the UI offers from
/// step 1 to step 5, with no console error and no request to a host other than the portal's.
/// </summary>
public sealed class GuidedPathInferredE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task A_new_user_infers_the_schema_from_superstore_ingests_it_and_sees_profiles_stitch_then_moves_on_to_training()
    {
        var sandbox = "infer" + Guid.NewGuid().ToString("N")[..6];
        using (var api = browser.Host.Api())
            (await api.PostAsJsonAsync("/api/v1/sandboxes", new { name = sandbox })).EnsureSuccessStatusCode();
        var page = await browser.SignedInPageAsync();
        var problems = Watch(page, browser.Host.BaseUri);
        await page.GotoAsync($"/account/sandbox/{sandbox}?returnUrl=/");
        await BrowserFixture.WaitForBlazorAsync(page);

        // Step 1 from the home page: infer from the file, review, use, create.
        await page.GetByTestId("nav-home").ClickAsync();
        await page.Locator("a[href='/wizard?step=1']").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-schema-step")).ToBeVisibleAsync();
        await page.GetByTestId("wizard-choice-infer").ClickAsync();
        await page.Locator("[data-testid=infer-from-file] input[type=file]").SetInputFilesAsync(TestData.Shipped("superstore/superstore.csv.gz"));
        await Assertions.Expect(page.GetByTestId("inference-review")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("inference-summary")).ToContainTextAsync("21 columns read from 1,000 sampled rows (CSV)");
        await Assertions.Expect(page.GetByTestId("inference-row-Customer ID")).ToContainTextAsync("customer id");
        await page.SetViewportSizeAsync(1440, 900);
        await BrowserFixture.ScreenshotAsync(page, "wizard-step1-inferred-review");
        await page.GetByTestId("inference-use").ClickAsync();
        await Assertions.Expect(page.Locator("input[data-testid=wizard-schema-name], [data-testid=wizard-schema-name] input").First).ToHaveValueAsync("Superstore");
        await Assertions.Expect(page.GetByTestId("wizard-schema-next")).ToBeEnabledAsync(new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(page, "wizard-step1-inferred-fields");
        await page.GetByTestId("wizard-schema-next").ClickAsync();

        // Step 2: a new profile-enabled dataset.
        await Assertions.Expect(page.GetByTestId("wizard-dataset-step")).ToBeVisibleAsync();
        await page.GetByTestId("wizard-dataset-choice-new").ClickAsync();
        await page.Locator("input[data-testid=wizard-dataset-name], [data-testid=wizard-dataset-name] input").First.FillAsync("Superstore orders");
        await page.GetByTestId("wizard-dataset-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-ready")).ToBeVisibleAsync();
        await page.GetByTestId("wizard-dataset-continue").ClickAsync();

        // Step 3: every column maps to its inferred field; nothing is rejected.
        await Assertions.Expect(page.GetByTestId("wizard-ingest-step")).ToBeVisibleAsync();
        await page.Locator("[data-testid=upload-panel] input[type=file]").SetInputFilesAsync(TestData.Shipped("superstore/superstore.csv.gz"));
        await Assertions.Expect(page.GetByTestId("upload-stored-preview")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("upload-unmapped")).ToHaveCountAsync(0);
        Assert.Equal(0, await page.Locator("[data-testid=upload-mapping] .mud-select:has-text('(not stored)')").CountAsync());
        await page.GetByTestId("upload-ingest").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=batch-progress][data-status=success]")).ToBeVisibleAsync(new() { Timeout = 180_000 });
        await Assertions.Expect(page.GetByTestId("wizard-ingest-done")).ToContainTextAsync("9,994 records");
        await Assertions.Expect(page.GetByTestId("wizard-ingest-done")).ToContainTextAsync("step 4");
        await BrowserFixture.ScreenshotAsync(page, "wizard-step3-inferred-ingested");
        await page.GetByTestId("wizard-next-profiles").ClickAsync();

        // Step 4: the customers stitched into profiles (793 customer ids in Superstore), then on to step 5.
        await Assertions.Expect(page.GetByTestId("wizard-profile-step")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("wizard-profile-stats")).ToContainTextAsync("793 profiles", new() { Timeout = 120_000 });
        await BrowserFixture.ScreenshotAsync(page, "wizard-step4-inferred-profiles");
        await page.GetByTestId("wizard-next-train").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-train-step")).ToBeVisibleAsync();

        // The API reference works offline: no font or script from another host.
        await page.GotoAsync("/api/reference");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("Enrichment Portal API", new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(page, "api-reference");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Console errors, page errors and requests to any host but the portal's, as they happen.</summary>
    internal static List<string> Watch(IPage page, Uri portal)
    {
        var problems = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") problems.Add($"console error on {page.Url}: {m.Text}"); };
        page.PageError += (_, e) => problems.Add($"page error on {page.Url}: {e}");
        page.Request += (_, r) =>
        {
            if (Uri.TryCreate(r.Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "ws" or "wss" && u.Authority != portal.Authority)
                problems.Add($"outside request from {page.Url}: {r.Url}");
        };
        return problems;
    }
}
