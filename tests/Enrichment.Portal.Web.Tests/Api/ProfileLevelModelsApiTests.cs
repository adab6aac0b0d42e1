using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Tests.LakeSeed;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>Models on a profile dataset that holds the same profiles twice (a re-upload) count and split profiles.</summary>
public sealed class ProfileLevelModelsApiTests(PortalHost host)
{
    [Fact]
    public async Task A_profile_dataset_ingested_twice_trains_on_each_profile_once_and_says_so()
    {
        using var api = host.Api();
        var fields = new object[]
        {
            new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
            new { path = "tenure", type = "number" }, new { path = "spend", type = "number" }, new { path = "churned", type = "string" },
        };
        // 400 customers; churn is likelier with a short tenure. 30 of them have no label.
        const string select = """
            SELECT 'D-' || CAST(range AS VARCHAR) AS customerId, (hash(range) % 60)::DOUBLE AS tenure, (hash(range + 3) % 500)::DOUBLE AS spend,
                   CASE WHEN range % 40 < 3 THEN NULL WHEN (hash(range) % 60) < 20 OR hash(range + 9) % 10 = 0 THEN 'Yes' ELSE 'No' END AS churned
            FROM range(400)
            """;
        var dataset = await DatasetAsync(host, api, Unique("Twice"), fields, select);
        // The same file again, as a later batch.
        CommitBatch(host, await SandboxIdAsync(api), dataset, select, batchId: "zz-second-upload");

        var created = await api.PostAsJsonAsync("/api/v1/models", new { name = Unique("churn twice"), recipe = "churn", source = new { datasetId = dataset }, label = new { field = "churned", positive = "Yes" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var modelId = (await PortalHost.JsonAsync(created))["id"]!.GetValue<string>();
        var train = await api.PostAsync($"/api/v1/models/{modelId}/train", null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var runId = (await PortalHost.JsonAsync(train))["runId"]!.GetValue<string>();
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());

        // 800 records, 400 profiles, 30 without a label: 370 profiles train and test.
        var data = run["charts"]!["data"]!;
        Assert.Equal("profiles", data["unit"]!.GetValue<string>());
        Assert.Equal(800, data["sourceRecords"]!.GetValue<long>());
        Assert.Equal(370, data["units"]!.GetValue<long>());
        Assert.Equal(30, data["droppedUnlabeled"]!.GetValue<long>());
        Assert.Equal("customerId", data["keyField"]!.GetValue<string>());
        Assert.Equal(370, run["trainRows"]!.GetValue<int>() + run["testRows"]!.GetValue<int>());

        var model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}"));
        var version = Assert.Single(model["versions"]!.AsArray())!;
        Assert.Equal(370, version["trainingData"]!["rows"]!.GetValue<int>());
        Assert.Equal("profiles", version["trainingData"]!["unit"]!.GetValue<string>());
        Assert.Equal(800, version["trainingData"]!["sourceRecords"]!.GetValue<long>());
        Assert.Equal(2, version["trainingData"]!["batches"]!.AsArray().Count);
    }
}

public sealed class GradeAndThresholdApiTests(PortalHost host)
{
    [Fact]
    public async Task The_positive_class_is_required_and_the_operating_threshold_can_be_moved()
    {
        using var api = host.Api();
        var fields = new object[]
        {
            new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
            new { path = "tenure", type = "number" }, new { path = "spend", type = "number" }, new { path = "churned", type = "string" },
        };
        const string select = """
            SELECT 'G-' || CAST(range AS VARCHAR) AS customerId, (hash(range) % 60)::DOUBLE AS tenure, (hash(range + 3) % 500)::DOUBLE AS spend,
                   CASE WHEN (hash(range) % 60) < 20 OR hash(range + 9) % 10 = 0 THEN 'Yes' ELSE 'No' END AS churned
            FROM range(600)
            """;
        var dataset = await DatasetAsync(host, api, Unique("Positive"), fields, select);
        var source = new { datasetId = dataset };

        // No positive class for a text label: 422 naming label.positive and the values found.
        var missing = await api.PostAsJsonAsync("/api/v1/models", new { name = Unique("no positive"), recipe = "churn", source, label = new { field = "churned" } });
        Assert.Equal((HttpStatusCode)422, missing.StatusCode);
        var problem = await PortalHost.JsonAsync(missing);
        Assert.Contains("Yes", problem["errors"]!["label.positive"]![0]!.GetValue<string>());
        var wrong = await api.PostAsJsonAsync("/api/v1/models", new { name = Unique("bad positive"), recipe = "churn", source, label = new { field = "churned", positive = "true" } });
        Assert.Equal((HttpStatusCode)422, wrong.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(wrong))["errors"]!["label.positive"]);

        var created = await api.PostAsJsonAsync("/api/v1/models", new { name = Unique("threshold"), recipe = "churn", source, label = new { field = "churned", positive = "yes" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var modelId = (await PortalHost.JsonAsync(created))["id"]!.GetValue<string>();
        var runId = (await PortalHost.JsonAsync(await api.PostAsync($"/api/v1/models/{modelId}/train", null)))["runId"]!.GetValue<string>();
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Assert.NotEmpty(run["charts"]!["gradeReasons"]!.AsArray());
        Assert.StartsWith("best single column", run["charts"]!["baselineRule"]!.GetValue<string>());
        Assert.Equal(99, run["charts"]!["thresholds"]!.AsArray().Count);
        var versionId = run["versionId"]!.GetValue<string>();

        // Move the threshold to 0.99: almost nobody is flagged; metrics, confusion and grade follow the stored table.
        var moved = await api.PutAsJsonAsync($"/api/v1/models/{modelId}/versions/{versionId}/threshold", new { threshold = 0.99 });
        var after = await PortalHost.JsonAsync(moved);
        Assert.True(moved.StatusCode == HttpStatusCode.OK, after.ToJsonString());
        Assert.Equal(0.99, after["metrics"]!["threshold"]!.GetValue<double>());
        var row = after["charts"]!["thresholds"]!.AsArray().Single(t => t!["threshold"]!.GetValue<double>() == 0.99)!;
        Assert.Equal(row.ToJsonString(), after["charts"]!["confusion"]!.ToJsonString());
        Assert.Contains("Threshold set to 0.99 after training.", after["charts"]!["gradeReasons"]!.AsArray().Select(r => r!.GetValue<string>()));
        var version = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}/versions/{versionId}"));
        Assert.Equal(0.99, version["metrics"]!["threshold"]!.GetValue<double>());
        Assert.Equal(after["grade"]!.GetValue<string>(), version["grade"]!.GetValue<string>());

        Assert.Equal((HttpStatusCode)422, (await api.PutAsJsonAsync($"/api/v1/models/{modelId}/versions/{versionId}/threshold", new { threshold = 1.5 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PutAsJsonAsync($"/api/v1/models/{modelId}/versions/{versionId}/threshold", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PutAsJsonAsync($"/api/v1/models/{modelId}/versions/nope/threshold", new { threshold = 0.5 })).StatusCode);
    }
}
