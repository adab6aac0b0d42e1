using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>
/// From a churn insight on the profiles (scores landed through a batch, as a scoring run's output does) to an audience
/// built in the rule builder with its live estimate, to an exported CSV file, in Chromium.
/// </summary>
public sealed class AudiencesE2ETests(BrowserFixture browser)
{
    private static string Id(JsonObject o) => o["id"]!.GetValue<string>();

    [Fact]
    public async Task A_churn_insight_becomes_an_audience_with_a_live_estimate_and_an_exported_file()
    {
        if (browser.Browser is null) Assert.Skip("Chromium is not installed");
        using var api = browser.Host.Api();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var schema = (await (await api.PostAsJsonAsync("/api/v1/schemas", new
        {
            name = "Aud people " + tag, @class = "profile",
            fields = new object[]
            {
                new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "email", type = "string", identity = new { @namespace = "Email" } },
                new { path = "age", type = "integer" },
            },
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        (await api.PostAsync($"/api/v1/schemas/{Id(schema)}/enable-profile", null)).EnsureSuccessStatusCode();
        var dataset = (await (await api.PostAsJsonAsync("/api/v1/datasets", new { name = "Aud people " + tag, schemaId = Id(schema) })).Content.ReadFromJsonAsync<JsonObject>())!;
        (await api.PostAsync($"/api/v1/datasets/{Id(dataset)}/enable-profile", null)).EnsureSuccessStatusCode();
        await BatchAsync(api, await api.PostAsync($"/api/v1/datasets/{Id(dataset)}/batches", Form("people.csv",
            "id,email,age\n" + string.Concat(Enumerable.Range(1, 6).Select(i => $"E-{tag}-{i},e{i}.{tag}@example.com,{30 + i}\n")))));
        var model = "churn" + tag;
        var scores = Form("scores.csv", $"customer_id,p\nE-{tag}-1,0.91\nE-{tag}-2,0.35\nE-{tag}-3,0.82\nE-{tag}-4,0.12\n");
        scores.Add(new StringContent(JsonSerializer.Serialize(new { name = model, identity = new { column = "customer_id", @namespace = "CRMID" }, fields = new Dictionary<string, string> { ["p"] = "score" } })), "import");
        await BatchAsync(api, await api.PostAsync("/api/v1/insights/imports", scores));

        // The wizard's "Build an audience" link opens the builder with the insight condition filled in.
        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"{browser.Host.BaseUri}audiences?attribute=insights.{model}.score&op=gt&value=0.7&name=High%20{model}");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("audience-estimate-size")).ToContainTextAsync("2 of", new() { Timeout = 15000 });
        await Assertions.Expect(page.GetByTestId("rule-preview")).ToContainTextAsync($"insights.{model}.score");
        await Assertions.Expect(page.GetByTestId("audience-estimate-sample")).ToHaveCountAsync(2);
        await BrowserFixture.ScreenshotAsync(page, "audiences-builder");

        await page.GetByTestId("audience-save").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/audiences/", StringComparison.Ordinal), new() { Timeout = 15000 });
        for (var i = 0; i < 30 && await page.GetByTestId("audience-detail-size").InnerTextAsync() != "2"; i++)
        {
            await page.WaitForTimeoutAsync(500);
            await page.GetByTestId("audience-detail-refresh").ClickAsync();
        }
        await Assertions.Expect(page.GetByTestId("audience-detail-size")).ToHaveTextAsync("2");
        await Assertions.Expect(page.GetByTestId("audience-member")).ToHaveCountAsync(2);

        await page.GetByTestId("export-folder").FillAsync("e2e-" + tag);
        await page.GetByTestId("export-attributes").FillAsync($"age, insights.{model}.score");
        await page.GetByTestId("export-identities").FillAsync("CRMID");
        await page.GetByTestId("export-run").ClickAsync();
        for (var i = 0; i < 30 && (await page.GetByTestId("export-run-status").AllInnerTextsAsync()).FirstOrDefault() != "succeeded"; i++)
        {
            await page.WaitForTimeoutAsync(500);
            await page.GetByTestId("audience-detail-refresh").ClickAsync();
        }
        await Assertions.Expect(page.GetByTestId("export-run-status").First).ToHaveTextAsync("succeeded");
        var file = (await page.GetByTestId("export-run-file").First.InnerTextAsync()).Trim();
        await BrowserFixture.ScreenshotAsync(page, "audiences-detail-export");
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal($"segmentId,segmentName,profileId,since,identity.CRMID,age,insights.{model}.score", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.EndsWith($",E-{tag}-1,31,0.91", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith($",E-{tag}-3,33,0.82", StringComparison.Ordinal));
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
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        var id = body["batchId"]?.GetValue<string>() ?? Id(body);
        await PortalHost.PollAsync(api, $"/api/v1/batches/{id}", b => b["status"]!.GetValue<string>() is "success" or "failed", TimeSpan.FromSeconds(60));
    }
}
