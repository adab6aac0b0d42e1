using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>
/// Issue #15's path from a churn model really trained and scored by the portal: wizard step 7's "Build an audience"
/// opens the builder on the model's insight, the live estimate, save, evaluation, an exported CSV file whose rows are
/// exactly the profiles whose score meets the rule (read back from the profile API).
/// </summary>
public sealed class TrainedChurnAudienceE2ETests(BrowserFixture browser)
{
    private const int Customers = 400;

    private static string Id(JsonNode o) => o["id"]!.GetValue<string>();

    [Fact]
    public async Task A_trained_churn_models_insight_becomes_an_audience_and_an_exported_file_of_exactly_its_members()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        using var api = browser.Host.Api();
        var tag = Guid.NewGuid().ToString("N")[..8];

        // 400 customers; a short tenure makes churn likely, so a good share scores above 0.7.
        var schema = await PostAsync(api, "/api/v1/schemas", new
        {
            name = "Churn people " + tag, @class = "profile",
            fields = new object[]
            {
                new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "tenure", type = "number" }, new { path = "monthlySpend", type = "number" }, new { path = "churned", type = "string" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{Id(schema)}/enable-profile", null)).StatusCode);
        var dataset = await PostAsync(api, "/api/v1/datasets", new { name = "Churn people " + tag, schemaId = Id(schema) });
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{Id(dataset)}/enable-profile", null)).StatusCode);
        var random = new Random(15);
        var csv = new StringBuilder("customerId,tenure,monthlySpend,churned\n");
        var ids = new List<string>();
        for (var i = 0; i < Customers; i++)
        {
            var tenure = random.Next(0, 60);
            var churned = tenure < 15 ? random.NextDouble() < 0.9 : random.NextDouble() < 0.08;
            var id = $"T-{tag}-{i}";
            ids.Add(id);
            csv.Append(CultureInfo.InvariantCulture, $"{id},{tenure},{20 + random.Next(0, 80)},{(churned ? "Yes" : "No")}\n");
        }
        using (var form = Form("customers.csv", csv.ToString()))
            await BatchAsync(api, await api.PostAsync($"/api/v1/datasets/{Id(dataset)}/batches", form));

        // Train and score through the API (the wizard's training and scoring steps have their own E2E tests).
        var model = "churn_" + tag;
        var modelId = Id(await PostAsync(api, "/api/v1/models", new { name = model, recipe = "churn", source = new { datasetId = Id(dataset) }, label = new { field = "churned", positive = "Yes" } }));
        var train = await api.PostAsync($"/api/v1/models/{modelId}/train", null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{(await PortalHost.JsonAsync(train))["runId"]!.GetValue<string>()}",
            r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        var scoring = await PostAsync(api, $"/api/v1/models/{modelId}/score", new { target = new { datasetId = Id(dataset) } });
        var scored = await PortalHost.PollAsync(api, $"/api/v1/scoring-runs/{scoring["runId"]!.GetValue<string>()}",
            r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(scored["status"]!.GetValue<string>() == "succeeded", scored.ToJsonString());

        // The truth, from the profile API: every customer whose churn score is above 0.7.
        var scores = new Dictionary<string, double>();
        foreach (var id in ids)
        {
            var profile = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id={id}"));
            scores[id] = profile["insights"]![model]!["score"]!.GetValue<double>();
        }
        var expected = scores.Where(kv => kv.Value > 0.7).Select(kv => kv.Key).ToHashSet();
        Assert.InRange(expected.Count, 20, Customers - 20);

        // Wizard step 7 for this model: its "Build an audience" button opens the builder with the insight rule filled in.
        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"{browser.Host.BaseUri}wizard?step=7&model={modelId}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("wizard-insights-count")).ToContainTextAsync(model, new() { Timeout = 30_000 });
        await page.GetByTestId("wizard-insights-audiences").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/audiences?", StringComparison.Ordinal), new() { Timeout = 15_000 });
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("rule-preview")).ToContainTextAsync($"insights.{model}.score", new() { Timeout = 15_000 });
        await Assertions.Expect(page.GetByTestId("audience-estimate-size")).ToContainTextAsync($"{expected.Count:N0} of", new() { Timeout = 15_000 });
        await BrowserFixture.ScreenshotAsync(page, "audiences-trained-churn-builder");

        await page.GetByTestId("audience-save").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/audiences/", StringComparison.Ordinal), new() { Timeout = 15_000 });
        var size = expected.Count.ToString("N0", CultureInfo.InvariantCulture);
        for (var i = 0; i < 60 && (await page.GetByTestId("audience-detail-size").InnerTextAsync()).Trim() != size; i++)
        {
            await page.WaitForTimeoutAsync(500);
            await page.GetByTestId("audience-detail-refresh").ClickAsync();
        }
        await Assertions.Expect(page.GetByTestId("audience-detail-size")).ToHaveTextAsync(size);

        await page.GetByTestId("export-folder").FillAsync("e2e-trained-" + tag);
        await page.GetByTestId("export-attributes").FillAsync($"tenure, insights.{model}.score");
        await page.GetByTestId("export-identities").FillAsync("CRMID");
        await page.GetByTestId("export-run").ClickAsync();
        for (var i = 0; i < 60 && (await page.GetByTestId("export-run-status").AllInnerTextsAsync()).FirstOrDefault() != "succeeded"; i++)
        {
            await page.WaitForTimeoutAsync(500);
            await page.GetByTestId("audience-detail-refresh").ClickAsync();
        }
        await Assertions.Expect(page.GetByTestId("export-run-status").First).ToHaveTextAsync("succeeded");
        var file = (await page.GetByTestId("export-run-file").First.InnerTextAsync()).Trim();
        await BrowserFixture.ScreenshotAsync(page, "audiences-trained-churn-export");

        // The file: one row per member, exactly the customers whose score is above 0.7, each with its own score.
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal($"segmentId,segmentName,profileId,since,identity.CRMID,tenure,insights.{model}.score", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(expected.Count, rows.Count);
        Assert.Equal(expected.Order(StringComparer.Ordinal), rows.Select(r => r[4]).Order(StringComparer.Ordinal));
        foreach (var r in rows)
            Assert.Equal(scores[r[4]], double.Parse(r[6], CultureInfo.InvariantCulture), 9);
    }

    private static async Task<JsonNode> PostAsync(HttpClient api, string url, object body)
    {
        var response = await api.PostAsJsonAsync(url, body);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {json.ToJsonString()}");
        return json;
    }

    private static MultipartFormDataContent Form(string name, string csv)
    {
        var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(content, "file", name);
        return form;
    }

    private static async Task BatchAsync(HttpClient api, HttpResponseMessage response)
    {
        var body = await PortalHost.JsonAsync(response);
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        var id = body["batchId"]?.GetValue<string>() ?? Id(body);
        var batch = await PortalHost.PollAsync(api, $"/api/v1/batches/{id}", b => b["status"]!.GetValue<string>() is "success" or "failed", TimeSpan.FromMinutes(2));
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());
    }
}
