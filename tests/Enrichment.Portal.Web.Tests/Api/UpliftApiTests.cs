using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Tests.LakeSeed;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>The uplift recipe through the API on a file of the Hillstrom e-mail campaign's shape: train, grade, score into insights.</summary>
public sealed class UpliftApiTests(PortalHost host)
{
    [Fact]
    public async Task An_uplift_model_on_a_hillstrom_shaped_campaign_trains_against_random_targeting_and_scores_uplift_into_insights()
    {
        using var api = host.Api();
        var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new
        {
            name = Unique("Campaign"), @class = "profile",
            fields = new object[]
            {
                new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "recency", type = "integer" }, new { path = "history_segment", type = "string" }, new { path = "history", type = "number" },
                new { path = "mens", type = "integer" }, new { path = "womens", type = "integer" }, new { path = "zip_code", type = "string" },
                new { path = "newbie", type = "integer" }, new { path = "channel", type = "string" }, new { path = "segment", type = "string" },
                new { path = "visit", type = "integer" }, new { path = "conversion", type = "integer" }, new { path = "spend", type = "number" },
            },
        }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        var dataset = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name = Unique("Campaign"), schemaId = schema }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{dataset}/enable-profile", null)).StatusCode);
        // 6,000 customers in three arms; conversion 8 %, raised by 12 points by the men's e-mail for customers who bought men's wear.
        var file = Path.Combine(Path.GetTempPath(), "ep-testdata", "uplift-" + Guid.NewGuid().ToString("N")[..8] + ".parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        Sql($"""
            COPY (
              SELECT 'H-' || CAST(range AS VARCHAR) AS customerId, (1 + hash(range) % 12)::INTEGER AS recency,
                     ['1) $0 - $100', '2) $100 - $200', '3) $200 - $350'][(1 + hash(range + 1) % 3)::INTEGER] AS history_segment,
                     (hash(range + 2) % 50000) / 100.0 AS history, mens, (1 - mens)::INTEGER AS womens,
                     ['Urban', 'Surburban', 'Rural'][(1 + hash(range + 4) % 3)::INTEGER] AS zip_code, (hash(range + 5) % 2)::INTEGER AS newbie,
                     ['Phone', 'Web', 'Multichannel'][(1 + hash(range + 6) % 3)::INTEGER] AS channel, segment,
                     (hash(range + 7) % 100 < 15)::INTEGER AS visit, conversion, conversion * (hash(range + 8) % 20000) / 100.0 AS spend
              FROM (SELECT range, (hash(range + 3) % 2)::INTEGER AS mens, ['Mens E-Mail', 'Womens E-Mail', 'No E-Mail'][(1 + hash(range + 9) % 3)::INTEGER] AS segment,
                           (hash(range + 10) % 1000 < 80 + CASE WHEN segment = 'Mens E-Mail' AND mens = 1 THEN 120 ELSE 0 END)::INTEGER AS conversion
                    FROM range(6000))
            ) TO '{file}' (FORMAT parquet)
            """);
        var batch = await BatchIngestionApiTests.IngestAsync(api, dataset, file);
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());

        var source = new { datasetId = dataset };
        var label = new { field = "conversion", positive = "1" };
        // The treatment column is required, and must be a field of the source (and not the outcome).
        var missing = await api.PostAsJsonAsync("/api/v1/models", new { name = Unique("uplift"), recipe = "uplift", source, label, parameters = new { treatedValue = "Mens E-Mail" } });
        Assert.Equal((HttpStatusCode)422, missing.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(missing))["errors"]!["parameters.treatmentField"]);
        var unknown = await api.PostAsJsonAsync("/api/v1/models", new { name = Unique("uplift"), recipe = "uplift", source, label, parameters = new { treatmentField = "arm", treatedValue = "Mens E-Mail" } });
        Assert.Equal((HttpStatusCode)422, unknown.StatusCode);
        Assert.Contains("'arm' is not a field", (await PortalHost.JsonAsync(unknown))["errors"]!["parameters.treatmentField"]![0]!.GetValue<string>());

        var name = "mens email " + Guid.NewGuid().ToString("N")[..6];
        var created = await api.PostAsJsonAsync("/api/v1/models", new
        {
            name, recipe = "uplift", source, label, excludeFeatures = new[] { "visit", "spend" },
            parameters = new { treatmentField = "segment", treatedValue = "Mens E-Mail", controlValue = "No E-Mail" },
        });
        var body = await PortalHost.JsonAsync(created);
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        var modelId = body["id"]!.GetValue<string>();
        var runId = (await PortalHost.JsonAsync(await api.PostAsync($"/api/v1/models/{modelId}/train", null)))["runId"]!.GetValue<string>();
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Assert.True(run["metrics"]!["qini"]!.GetValue<double>() > 0, run["metrics"]!.ToJsonString());
        Assert.Equal(0, run["baseline"]!["qini"]!.GetValue<double>());
        Assert.Equal(10, run["charts"]!["uplift"]!.AsArray().Count);
        Assert.Equal(21, run["charts"]!["qini"]!.AsArray().Count);
        Assert.StartsWith("random targeting", run["charts"]!["baselineRule"]!.GetValue<string>());
        Assert.Equal("mens", run["featureImportance"]![0]!["feature"]!.GetValue<string>());
        // The women's e-mail third is neither arm.
        Assert.InRange(run["trainRows"]!.GetValue<int>() + run["testRows"]!.GetValue<int>(), 3700, 4300);

        var score = await api.PostAsJsonAsync($"/api/v1/models/{modelId}/score", new { target = new { datasetId = dataset } });
        Assert.Equal(HttpStatusCode.Accepted, score.StatusCode);
        var scoringRun = await PortalHost.PollAsync(api, $"/api/v1/scoring-runs/{(await PortalHost.JsonAsync(score))["runId"]!.GetValue<string>()}",
            r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(scoringRun["status"]!.GetValue<string>() == "succeeded", scoringRun.ToJsonString());
        Assert.Equal(6000, scoringRun["rowsScored"]!.GetValue<long>());
        // Customers who bought men's wear get the higher uplift; treated − control = uplift.
        var mensUplift = new List<double>(); var womensUplift = new List<double>();
        foreach (var i in Enumerable.Range(0, 40))
        {
            var profile = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id=H-{i}"));
            var insight = profile["insights"]![name]!;
            var uplift = insight["uplift"]!.GetValue<double>();
            Assert.Equal(insight["treated"]!.GetValue<double>() - insight["control"]!.GetValue<double>(), uplift, 9);
            (profile["attributes"]!["mens"]!.GetValue<long>() == 1 ? mensUplift : womensUplift).Add(uplift);
        }
        Assert.True(mensUplift.Average() > womensUplift.Average() + 0.05, $"mens {mensUplift.Average()} womens {womensUplift.Average()}");
    }
}
