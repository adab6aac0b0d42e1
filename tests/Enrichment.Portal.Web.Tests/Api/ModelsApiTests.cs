using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Tests.LakeSeed;

namespace Enrichment.Portal.Web.Tests.Api;

public sealed class ModelsApiTests(PortalHost host)
{
    private static async Task<JsonNode> CreateModelAsync(HttpClient api, object body)
    {
        var response = await api.PostAsJsonAsync("/api/v1/models", body);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {json.ToJsonString()}");
        return json;
    }

    private static async Task<string> TrainAsync(HttpClient api, string modelId)
    {
        var response = await api.PostAsync($"/api/v1/models/{modelId}/train", null);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {json.ToJsonString()}");
        return json["runId"]!.GetValue<string>();
    }

    private static Task<JsonNode> FinishedAsync(HttpClient api, string runId, int minutes = 5) =>
        PortalHost.PollAsync(api, $"/api/v1/training-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(minutes));

    private static void Report(string line)
    {
        Xunit.TestContext.Current.TestOutputHelper?.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "ep-models-api-metrics.txt"), DateTime.Now.ToString("HH:mm:ss ") + line + Environment.NewLine);
    }

    [Fact]
    public async Task Bank_marketing_propensity_without_duration_reaches_auc_079_on_held_out_rows_and_its_first_version_is_active()
    {
        using var api = host.Api();
        var dataset = await BankDatasetAsync(host, api, Unique("Bank full"));
        var model = await CreateModelAsync(api, new
        {
            name = Unique("bank propensity"), recipe = "propensity", source = new { datasetId = dataset },
            label = new { field = "y", positive = "yes" }, excludeFeatures = new[] { "duration" }, parameters = new { },
        });
        Assert.Equal("propensity", model["recipe"]!.GetValue<string>());
        Assert.Null(model["activeVersionId"]);
        var modelId = model["id"]!.GetValue<string>();

        var started = DateTime.UtcNow;
        var runId = await TrainAsync(api, modelId);
        var run = await FinishedAsync(api, runId);
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        var metrics = run["metrics"]!;
        Report($"api bank propensity: {metrics.ToJsonString()} baseline={run["baseline"]!.ToJsonString()} grade={run["grade"]} trainer={run["trainer"]} {(DateTime.UtcNow - started).TotalSeconds:F0}s");
        Assert.True(metrics["auc"]!.GetValue<double>() >= 0.79, $"AUC {metrics["auc"]}");
        foreach (var m in new[] { "prAuc", "logLoss", "f1", "accuracy", "lift10" }) Assert.NotNull(metrics[m]);
        Assert.Equal(1.0, run["progress"]!.GetValue<double>());
        Assert.Contains(run["grade"]!.GetValue<string>(), new[] { "A", "B", "C" });
        Assert.NotNull(run["baseline"]!["auc"]);
        var importance = run["featureImportance"]!.AsArray();
        Assert.NotEmpty(importance);
        Assert.DoesNotContain(importance, f => f!["feature"]!.GetValue<string>() is "duration" or "y" or "customerId");
        Assert.NotEmpty(run["charts"]!["roc"]!.AsArray());
        Assert.NotEmpty(run["log"]!.AsArray());
        Assert.NotNull(run["startedAt"]);
        Assert.NotNull(run["finishedAt"]);
        Assert.Null(run["error"]);

        var versionId = run["versionId"]!.GetValue<string>();
        var got = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}"));
        Assert.Equal(versionId, got["activeVersionId"]!.GetValue<string>());
        var version = Assert.Single(got["versions"]!.AsArray())!;
        Assert.Equal(1, version["number"]!.GetValue<int>());
        Assert.True(version["active"]!.GetValue<bool>());
        Assert.Equal(45211, version["trainingData"]!["rows"]!.GetValue<int>());
        Assert.Equal(dataset, version["trainingData"]!["datasetId"]!.GetValue<string>());
        Assert.Single(version["trainingData"]!["batches"]!.AsArray());
        Assert.Equal(metrics["auc"]!.GetValue<double>(), version["metrics"]!["auc"]!.GetValue<double>());
        Assert.True(version["artifactBytes"]!.GetValue<long>() > 0);
        var listed = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/models?limit=1000"));
        Assert.Contains(listed["items"]!.AsArray(), m => m!["id"]!.GetValue<string>() == modelId);
    }

    [Fact]
    public async Task Two_runs_with_the_same_seed_give_the_same_metrics_and_versions_can_be_compared_and_activated()
    {
        using var api = host.Api();
        var dataset = await BankDatasetAsync(host, api, Unique("Bank small"), "day % 10 = 0");
        var modelId = (await CreateModelAsync(api, new
        {
            name = Unique("bank seed"), recipe = "propensity", source = new { datasetId = dataset },
            label = new { field = "y", positive = "yes" }, excludeFeatures = new[] { "duration" }, seed = 7,
        }))["id"]!.GetValue<string>();

        var first = await FinishedAsync(api, await TrainAsync(api, modelId));
        var second = await FinishedAsync(api, await TrainAsync(api, modelId));
        Assert.Equal("succeeded", first["status"]!.GetValue<string>());
        Assert.Equal("succeeded", second["status"]!.GetValue<string>());
        Assert.Equal(first["metrics"]!.ToJsonString(), second["metrics"]!.ToJsonString());
        Assert.Equal(first["featureImportance"]!.ToJsonString(), second["featureImportance"]!.ToJsonString());
        Report($"api determinism (seed 7, {first["trainRows"]}+{first["testRows"]} rows): {first["metrics"]!.ToJsonString()}");

        var v1 = first["versionId"]!.GetValue<string>();
        var v2 = second["versionId"]!.GetValue<string>();
        var model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}"));
        Assert.Equal(v1, model["activeVersionId"]!.GetValue<string>());
        Assert.Equal(2, model["versions"]!.AsArray().Count);

        var compare = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}/versions/compare?a={v1}&b={v2}"));
        Assert.Equal(1, compare["a"]!["number"]!.GetValue<int>());
        Assert.Equal(2, compare["b"]!["number"]!.GetValue<int>());
        var auc = compare["metrics"]!.AsArray().First(m => m!["metric"]!.GetValue<string>() == "auc")!;
        Assert.Equal(0, auc["delta"]!.GetValue<double>());
        Assert.Null(auc["better"]);

        var runs = (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}/runs")))["items"]!.AsArray();
        Assert.Equal([second["id"]!.GetValue<string>(), first["id"]!.GetValue<string>()], runs.Select(r => r!["id"]!.GetValue<string>()).ToArray());
        var recipes = (await PortalHost.JsonAsync(await api.GetAsync("/api/v1/recipes")))["items"]!.AsArray();
        Assert.Equal(["propensity", "churn", "clv", "affinity", "engagement", "segmentation", "uplift", "custom"], recipes.Select(r => r!["name"]!.GetValue<string>()).ToArray());

        var activated = await api.PostAsync($"/api/v1/models/{modelId}/versions/{v2}/activate", null);
        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        Assert.Equal(v2, (await PortalHost.JsonAsync(activated))["activeVersionId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync($"/api/v1/models/{modelId}/versions/nope/activate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"/api/v1/models/{modelId}/versions/compare?a={v1}")).StatusCode);
    }

    [Fact]
    public async Task A_label_with_one_class_fails_the_run_with_a_clear_message()
    {
        using var api = host.Api();
        var dataset = await BankDatasetAsync(host, api, Unique("Bank no only"), "y = 'no' AND day = 5");
        var modelId = (await CreateModelAsync(api, new
        {
            name = Unique("one class"), recipe = "churn", source = new { datasetId = dataset }, label = new { field = "y", positive = "yes" },
        }))["id"]!.GetValue<string>();
        var run = await FinishedAsync(api, await TrainAsync(api, modelId));
        Assert.Equal("failed", run["status"]!.GetValue<string>());
        var error = run["error"]!.GetValue<string>();
        Report("api one-class error: " + error);
        Assert.Contains("only one class", error);
        Assert.Null(run["versionId"]);
        var model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}"));
        Assert.Null(model["activeVersionId"]);
        Assert.Empty(model["versions"]!.AsArray());
    }

    [Fact]
    public async Task Segmentation_on_a_small_dataset_finds_segments_with_silhouette_and_k()
    {
        using var api = host.Api();
        var fields = new object[]
        {
            new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
            new { path = "orders", type = "number" }, new { path = "spend", type = "number" }, new { path = "tenure", type = "number" },
        };
        // Three well separated groups of 100 customers, with a little deterministic noise.
        const string select = """
            SELECT 'S-' || CAST(range AS VARCHAR) AS customerId,
                   [2.0, 12.0, 30.0][range % 3 + 1] + (hash(range) % 100) / 100.0 AS orders,
                   [50.0, 400.0, 120.0][range % 3 + 1] + (hash(range + 7) % 100) / 10.0 AS spend,
                   [3.0, 24.0, 60.0][range % 3 + 1] + (hash(range + 13) % 100) / 50.0 AS tenure
            FROM range(300)
            """;
        var dataset = await DatasetAsync(host, api, Unique("Segments"), fields, select);
        var modelId = (await CreateModelAsync(api, new { name = Unique("segments"), recipe = "segmentation", source = new { datasetId = dataset }, parameters = new { k = (int?)null } }))["id"]!.GetValue<string>();
        var run = await FinishedAsync(api, await TrainAsync(api, modelId));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Report($"api segmentation: {run["metrics"]!.ToJsonString()} clusters={run["charts"]!["clusters"]!.AsArray().Count}");
        Assert.Equal(3, run["metrics"]!["k"]!.GetValue<double>());
        Assert.True(run["metrics"]!["silhouette"]!.GetValue<double>() > 0.5);
        var clusters = run["charts"]!["clusters"]!.AsArray();
        Assert.Equal(3, clusters.Count);
        Assert.All(clusters, c => Assert.False(string.IsNullOrWhiteSpace(c!["description"]!.GetValue<string>())));
    }

    [Fact]
    public async Task Models_of_another_sandbox_are_404_and_viewers_cannot_create_or_train()
    {
        using var api = host.Api();
        var dataset = await BankDatasetAsync(host, api, Unique("Bank tiny"), "day = 7");
        var modelId = (await CreateModelAsync(api, new { name = Unique("isolated"), recipe = "propensity", source = new { datasetId = dataset }, label = new { field = "y", positive = "yes" } }))["id"]!.GetValue<string>();

        using var other = host.Api(await host.KeyAsync("scientist", "models-other"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/models/{modelId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/api/v1/models/{modelId}/train", null)).StatusCode);
        Assert.DoesNotContain((await PortalHost.JsonAsync(await other.GetAsync("/api/v1/models")))["items"]!.AsArray(), m => m!["id"]!.GetValue<string>() == modelId);
        var otherCreate = await other.PostAsJsonAsync("/api/v1/models", new { name = "x", recipe = "propensity", source = new { datasetId = dataset }, label = new { field = "y" } });
        Assert.Equal((HttpStatusCode)422, otherCreate.StatusCode);

        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/v1/models/{modelId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/v1/models/{modelId}/train", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/models", new { name = "v", recipe = "propensity" })).StatusCode);
        using var engineer = host.Api(await host.KeyAsync("engineer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await engineer.PostAsync($"/api/v1/models/{modelId}/train", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/training-runs/unknown")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/models/unknown")).StatusCode);
    }

    [Fact]
    public async Task Bad_create_requests_are_400_or_422_with_the_reason_and_never_500()
    {
        using var api = host.Api();
        var dataset = await BankDatasetAsync(host, api, Unique("Bank bad"), "day = 9");
        async Task<JsonNode> Expect(HttpStatusCode status, object body, string errorKey)
        {
            var response = await api.PostAsJsonAsync("/api/v1/models", body);
            var json = await PortalHost.JsonAsync(response);
            Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} {json.ToJsonString()}");
            Assert.True(json["errors"]?[errorKey] is not null, $"expected errors.{errorKey}: {json.ToJsonString()}");
            return json;
        }
        var label = new { field = "y", positive = "yes" };
        var source = new { datasetId = dataset };
        await Expect(HttpStatusCode.BadRequest, new { recipe = "propensity", source, label }, "name");
        var unknown = await Expect(HttpStatusCode.BadRequest, new { name = Unique("m"), recipe = "magic", source, label }, "recipe");
        Assert.Contains("propensity", unknown["detail"]!.GetValue<string>());
        await Expect(HttpStatusCode.BadRequest, new { name = Unique("m"), recipe = "propensity", label }, "source");
        await Expect(HttpStatusCode.BadRequest, new { name = Unique("m"), recipe = "propensity", source = new { datasetId = dataset, snapshot = true }, label }, "source");
        await Expect(HttpStatusCode.BadRequest, new { name = Unique("m"), recipe = "propensity", source, label, features = "age" }, "features");
        await Expect(HttpStatusCode.BadRequest, new { name = Unique("m"), recipe = "propensity", source, label, parameters = new[] { 1 } }, "parameters");
        await Expect((HttpStatusCode)422, new { name = Unique("m"), recipe = "propensity", source = new { datasetId = "nope" }, label }, "source.datasetId");
        await Expect((HttpStatusCode)422, new { name = Unique("m"), recipe = "propensity", source }, "label");
        await Expect((HttpStatusCode)422, new { name = Unique("m"), recipe = "propensity", source, label = new { field = "nope", positive = "yes" } }, "label.field");
        await Expect((HttpStatusCode)422, new { name = Unique("m"), recipe = "propensity", source, label, excludeFeatures = new[] { "durationx" } }, "excludeFeatures");
        await Expect((HttpStatusCode)422, new { name = Unique("m"), recipe = "segmentation", source, parameters = new { k = 1 } }, "parameters.k");
        await Expect((HttpStatusCode)422, new { name = Unique("m"), recipe = "segmentation", source, parameters = new { k = "many" } }, "parameters.k");
        await Expect((HttpStatusCode)422, new { name = Unique("m"), recipe = "clv", parameters = new { method = "bgnbd" } }, "parameters.eventDatasetId");

        var malformed = await api.PostAsync("/api/v1/models", new StringContent("{ not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        var name = Unique("twice");
        await CreateModelAsync(api, new { name, recipe = "propensity", source, label });
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync("/api/v1/models", new { name, recipe = "propensity", source, label })).StatusCode);

        // A snapshot source is valid at creation; training needs a snapshot to exist (a sandbox of its own: other tests of
        // the shared host make snapshots in prod).
        using var empty = host.Api(await host.KeyAsync("scientist", "models-nosnap"));
        var snap = await CreateModelAsync(empty, new { name = Unique("on snapshot"), recipe = "segmentation", source = new { snapshot = true } });
        var train = await empty.PostAsync($"/api/v1/models/{snap["id"]!.GetValue<string>()}/train", null);
        Assert.Equal((HttpStatusCode)422, train.StatusCode);
        Assert.Contains("snapshot", (await PortalHost.JsonAsync(train))["detail"]!.GetValue<string>());
    }
}
