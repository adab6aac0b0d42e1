using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Tests;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static Enrichment.Portal.Tests.LakeSeed;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// Bank Marketing (a fifth of the rows, as customers C-n) ingested through the API into a profile-enabled dataset, so that every
/// customer is a profile with its attributes, and one quick propensity model trained on it. Shared by the scoring tests.
/// </summary>
public sealed class ScoringFixture(PortalHost host) : IAsyncLifetime
{
    public static readonly string[] Features = ["age", "job", "balance", "housing", "loan", "month", "campaign", "poutcome"];
    public string DatasetId { get; private set; } = "";
    public string ModelId { get; private set; } = "";
    public string ModelName { get; private set; } = "";
    public string VersionId { get; private set; } = "";
    public long Rows { get; private set; }
    /// <summary>A few customers of the data (first, last and some in between).</summary>
    public IReadOnlyList<string> Sample { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        using var api = host.Api();
        var schema = (await Post(api, "/api/v1/schemas", new { name = Unique("Bank scoring schema"), @class = "profile", fields = BankFields }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        DatasetId = (await Post(api, "/api/v1/datasets", new { name = Unique("Bank scoring"), schemaId = schema }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{DatasetId}/enable-profile", null)).StatusCode);
        var file = Path.Combine(Path.GetTempPath(), "ep-testdata", "scoring", "bank_fifth.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        if (!File.Exists(file)) Sql($"COPY (SELECT * FROM read_parquet('{BankParquet()}') WHERE day % 5 = 0) TO '{file}' (FORMAT parquet)");
        var batch = await BatchIngestionApiTests.IngestAsync(api, DatasetId, file);
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());
        Rows = batch["recordsWritten"]!.GetValue<long>();
        using (var c = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT customerId FROM (SELECT customerId, row_number() OVER () AS n FROM read_parquet('{file}')) WHERE n IN (1, 2, 777, 5000, {Rows})";
            using var r = cmd.ExecuteReader();
            var ids = new List<string>();
            while (r.Read()) ids.Add(r.GetString(0));
            Sample = ids;
        }

        ModelName = "bank score " + Guid.NewGuid().ToString("N")[..6];
        (ModelId, VersionId) = await TrainAsync(api, new
        {
            name = ModelName, recipe = "propensity", source = new { datasetId = DatasetId },
            label = new { field = "y", positive = "yes" }, features = Features,
        });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public static async Task<(string ModelId, string VersionId)> TrainAsync(HttpClient api, object model)
    {
        var id = (await Post(api, "/api/v1/models", model))["id"]!.GetValue<string>();
        var train = await api.PostAsync($"/api/v1/models/{id}/train", null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var runId = (await PortalHost.JsonAsync(train))["runId"]!.GetValue<string>();
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        return (id, run["versionId"]!.GetValue<string>());
    }

    public static async Task<JsonNode> Post(HttpClient api, string url, object body)
    {
        var response = await api.PostAsJsonAsync(url, body);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {json.ToJsonString()}");
        return json;
    }
}

public sealed class ScoringApiTests(PortalHost host, ScoringFixture bank) : IClassFixture<ScoringFixture>
{
    private static void Report(string line)
    {
        Xunit.TestContext.Current.TestOutputHelper?.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "ep-scoring-api.txt"), DateTime.Now.ToString("HH:mm:ss ") + line + Environment.NewLine);
    }

    private static async Task<string> StartAsync(HttpClient api, string modelId, object? body = null)
    {
        var response = await api.PostAsJsonAsync($"/api/v1/models/{modelId}/score", body ?? new { });
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {json.ToJsonString()}");
        return json["runId"]!.GetValue<string>();
    }

    private static Task<JsonNode> FinishedAsync(HttpClient api, string runId) =>
        PortalHost.PollAsync(api, $"/api/v1/scoring-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));

    private async Task<JsonNode> ScoreAsync(HttpClient api, string modelId)
    {
        var run = await FinishedAsync(api, await StartAsync(api, modelId, new { target = new { datasetId = bank.DatasetId } }));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Report($"scoring run {run["id"]}: {run["rowsScored"]} rows, psi {run["psi"]}, {string.Join(" | ", run["log"]!.AsArray().Select(l => l!.GetValue<string>()))}");
        return run;
    }

    private static async Task<JsonNode> ProfileAsync(HttpClient api, string customer)
    {
        var response = await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id={customer}");
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToJsonString());
        return json;
    }

    private static long Long(JsonNode n, string name) => n[name]!.GetValue<long>();

    [Fact]
    public async Task Scoring_writes_insights_with_the_active_version_to_profiles_and_a_rerun_replaces_them_without_duplicates()
    {
        using var api = host.Api();
        var first = await ScoreAsync(api, bank.ModelId);
        Assert.Equal(bank.Rows, Long(first, "rowsScored"));
        Assert.Equal(bank.Rows, Long(first, "profilesUpdated"));
        Assert.Equal(bank.VersionId, first["versionId"]!.GetValue<string>());
        Assert.Equal(1.0, first["progress"]!.GetValue<double>());
        Assert.NotNull(first["startedAt"]);
        Assert.NotNull(first["finishedAt"]);
        Assert.Null(first["error"]);
        var fractions = first["distribution"]!["fractions"]!.AsArray().Select(f => f!.GetValue<double>()).ToList();
        Assert.Equal(1.0, fractions.Sum(), 6);
        Assert.True(first["psi"]!.GetValue<double>() < 0.2, "same data as training: no drift");
        Assert.False(first["driftWarning"]!.GetValue<bool>());
        var output = first["outputDatasetId"]!.GetValue<string>();

        var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{output}"));
        Assert.True(dataset["system"]!.GetValue<bool>());
        Assert.True(dataset["profileEnabled"]!.GetValue<bool>());
        Assert.Equal(ScoringService.OutputDatasetName(bank.ModelName), dataset["name"]!.GetValue<string>());
        Assert.Equal(bank.Rows, Long(dataset, "recordCount"));
        var batch = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{first["batchId"]!.GetValue<string>()}"));
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        Assert.Equal(["upload", "validate", "lake", "identity", "profile"], batch["stages"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));

        var profile = await ProfileAsync(api, "C-5");
        var insight = profile["insights"]![bank.ModelName]!;
        var score = insight["score"]!.GetValue<double>();
        Assert.InRange(score, 0, 1);
        Assert.Equal(bank.VersionId, insight["modelVersion"]!.GetValue<string>());
        var scoredAt = insight["scoredAt"]!.GetValue<string>();
        Assert.NotNull(profile["attributes"]!["job"]); // the source's attributes stay beside the insights
        // The score carries its top 3 reasons: features of the model, with a direction and a contribution, largest first.
        var reasons = insight["reasons"]!.AsArray();
        Assert.Equal(3, reasons.Count);
        Assert.All(reasons, r => Assert.Contains(r!["feature"]!.GetValue<string>(), ScoringFixture.Features));
        Assert.All(reasons, r => Assert.False(string.IsNullOrEmpty(r!["direction"]!.GetValue<string>())));
        var sizes = reasons.Select(r => Math.Abs(r!["contribution"]!.GetValue<double>())).ToArray();
        Assert.Equal(sizes.OrderDescending(), sizes);

        var second = await ScoreAsync(api, bank.ModelId);
        Assert.Equal(output, second["outputDatasetId"]!.GetValue<string>());
        dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{output}"));
        Assert.Equal(bank.Rows, Long(dataset, "recordCount"));
        Assert.Equal(1, dataset["batchCount"]!.GetValue<int>());
        var batches = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches?datasetId={output}"));
        Assert.Single(batches["items"]!.AsArray());
        var again = (await ProfileAsync(api, "C-5"))["insights"]!.AsObject();
        Assert.Single(again, kv => kv.Key == bank.ModelName);
        Assert.Equal(score, again[bank.ModelName]!["score"]!.GetValue<double>(), 12);
        Assert.NotEqual(scoredAt, again[bank.ModelName]!["scoredAt"]!.GetValue<string>());

        var runs = (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{bank.ModelId}/scoring-runs?limit=1")));
        Assert.Equal(second["id"]!.GetValue<string>(), runs["items"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.NotNull(runs["nextCursor"]);
    }

    [Fact]
    public async Task Two_models_coexist_in_the_insights_map_of_a_profile()
    {
        using var api = host.Api();
        var segName = "bank segments " + Guid.NewGuid().ToString("N")[..6];
        var (segId, segVersion) = await ScoringFixture.TrainAsync(api, new
        {
            name = segName, recipe = "segmentation", source = new { datasetId = bank.DatasetId }, features = new[] { "age", "balance", "campaign" }, parameters = new { k = 3 },
        });
        await ScoreAsync(api, bank.ModelId);
        var seg = await ScoreAsync(api, segId);
        Assert.Equal(bank.Rows, Long(seg, "rowsScored"));
        Assert.True(seg["psi"]!.GetValue<double>() < 0.01, "scored on the training rows, the segment shares match training: " + seg["psi"]);
        var insights = (await ProfileAsync(api, "C-10"))["insights"]!;
        Assert.InRange(insights[bank.ModelName]!["score"]!.GetValue<double>(), 0, 1);
        Assert.InRange(insights[segName]!["segment"]!.GetValue<int>(), 1, 3);
        Assert.False(string.IsNullOrEmpty(insights[segName]!["segmentDescription"]!.GetValue<string>()));
        Assert.Equal(segVersion, insights[segName]!["modelVersion"]!.GetValue<string>());

        var predicted = await PortalHost.JsonAsync(await api.PostAsJsonAsync($"/api/v1/models/{segId}/predict", new { @namespace = "CRMID", id = "C-10" }));
        Assert.Equal(insights[segName]!["segment"]!.GetValue<int>(), predicted["segment"]!.GetValue<int>());
    }

    [Fact]
    public async Task One_profile_predict_equals_the_batch_score_of_the_same_data()
    {
        using var api = host.Api();
        await ScoreAsync(api, bank.ModelId);
        Assert.Equal(5, bank.Sample.Count);
        foreach (var customer in bank.Sample)
        {
            var insight = (await ProfileAsync(api, customer))["insights"]![bank.ModelName]!;
            var response = await api.PostAsJsonAsync($"/api/v1/models/{bank.ModelId}/predict", new { @namespace = "CRMID", id = customer });
            var predicted = await PortalHost.JsonAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.OK, predicted.ToJsonString());
            Assert.Equal(insight["score"]!.GetValue<double>(), predicted["score"]!.GetValue<double>(), 1e-6);
            Assert.Equal(bank.VersionId, predicted["modelVersion"]!.GetValue<string>());
        }
        var missing = await api.PostAsJsonAsync($"/api/v1/models/{bank.ModelId}/predict", new { @namespace = "CRMID", id = "C-no-such" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var bad = await api.PostAsJsonAsync($"/api/v1/models/{bank.ModelId}/predict", new { id = "C-5" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(bad))["errors"]!["namespace"]);
    }

    [Fact]
    public async Task A_failure_after_the_lake_stage_keeps_the_previous_results_and_the_run_can_be_run_again()
    {
        using var api = host.Api();
        var good = await ScoreAsync(api, bank.ModelId);
        var output = good["outputDatasetId"]!.GetValue<string>();
        var before = (await ProfileAsync(api, "C-15"))["insights"]![bank.ModelName]!["scoredAt"]!.GetValue<string>();

        var config = host.Services.GetRequiredService<IConfiguration>();
        foreach (var point in new[] { "after-lake", "after-score" })
        {
            config[ScoringJob.FailPointKey] = point + ":" + bank.ModelId;
            try
            {
                var failed = await FinishedAsync(api, await StartAsync(api, bank.ModelId, new { target = new { datasetId = bank.DatasetId } }));
                Assert.True(failed["status"]!.GetValue<string>() == "failed", failed.ToJsonString());
                Assert.Contains("Fault injected", failed["error"]!.GetValue<string>());
                Report($"{point}: {failed["error"]}");
            }
            finally { config[ScoringJob.FailPointKey] = null; }
            var profile = (await ProfileAsync(api, "C-15"))["insights"]![bank.ModelName]!;
            Assert.Equal(before, profile["scoredAt"]!.GetValue<string>());
            var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{output}"));
            Assert.Equal(bank.Rows, Long(dataset, "recordCount"));
        }

        var rerun = await ScoreAsync(api, bank.ModelId);
        Assert.Equal(output, rerun["outputDatasetId"]!.GetValue<string>());
        var after = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{output}"));
        Assert.Equal((bank.Rows, 1), (Long(after, "recordCount"), after["batchCount"]!.GetValue<int>()));
        Assert.Single((await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches?datasetId={output}")))["items"]!.AsArray());
        Assert.NotEqual(before, (await ProfileAsync(api, "C-15"))["insights"]![bank.ModelName]!["scoredAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_schedule_every_second_fires_and_creates_a_scheduled_run()
    {
        using var api = host.Api();
        var config = host.Services.GetRequiredService<IConfiguration>();
        config["Scoring:ScheduleCheckSeconds"] = "0.5";
        try
        {
            var set = await api.PutAsJsonAsync($"/api/v1/models/{bank.ModelId}/schedule", new { cron = "* * * * * *", retrain = false });
            var schedule = await PortalHost.JsonAsync(set);
            Assert.True(set.StatusCode == HttpStatusCode.OK, schedule.ToJsonString());
            Assert.Equal("* * * * * *", schedule["cron"]!.GetValue<string>());
            var model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{bank.ModelId}"));
            Assert.NotNull(model["schedule"]!["nextRunAt"]);

            var runs = await PortalHost.PollAsync(api, $"/api/v1/models/{bank.ModelId}/scoring-runs",
                r => r["items"]!.AsArray().Any(x => x!["trigger"]!.GetValue<string>() == "schedule"), TimeSpan.FromMinutes(2));
            var cleared = await PortalHost.JsonAsync(await api.DeleteAsync($"/api/v1/models/{bank.ModelId}/schedule"));
            Assert.Null(cleared["cron"]);
            var scheduled = runs["items"]!.AsArray().First(x => x!["trigger"]!.GetValue<string>() == "schedule")!;
            var done = await FinishedAsync(api, scheduled["id"]!.GetValue<string>());
            Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString());
            Assert.Equal("schedule", done["createdBy"]!.GetValue<string>());
        }
        finally
        {
            config["Scoring:ScheduleCheckSeconds"] = null;
            await api.DeleteAsync($"/api/v1/models/{bank.ModelId}/schedule");
        }
        // Let a run the checker may have started just before the schedule was cleared finish, so later tests start clean.
        await PortalHost.PollAsync(api, $"/api/v1/models/{bank.ModelId}/scoring-runs",
            r => r["items"]!.AsArray().All(x => x!["status"]!.GetValue<string>() is "succeeded" or "failed"), TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task A_due_schedule_with_retrain_on_a_fake_clock_trains_decides_on_held_out_auc_and_scores()
    {
        using var api = host.Api();
        var (modelId, v1) = await ScoringFixture.TrainAsync(api, new
        {
            name = "bank retrain " + Guid.NewGuid().ToString("N")[..6], recipe = "propensity", source = new { datasetId = bank.DatasetId },
            label = new { field = "y", positive = "yes" }, features = new[] { "age", "balance", "housing", "month" },
        });
        var set = await PortalHost.JsonAsync(await api.PutAsJsonAsync($"/api/v1/models/{modelId}/schedule", new { cron = "0 3 * * *", retrain = true }));
        var next = DateTimeOffset.Parse(set["nextRunAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(3, next.UtcDateTime.Hour);
        Assert.True(set["retrain"]!.GetValue<bool>());

        await using var scope = host.Services.CreateAsyncScope();
        var scheduler = scope.ServiceProvider.GetRequiredService<ScoringScheduler>();
        Assert.DoesNotContain(await scheduler.RunDueAsync(next.AddSeconds(-1)), s => s.ModelId == modelId);
        var fired = Assert.Single(await scheduler.RunDueAsync(next.AddSeconds(1)), s => s.ModelId == modelId);
        Assert.Null(fired.Refused);
        Assert.DoesNotContain(await scheduler.RunDueAsync(next.AddSeconds(2)), s => s.ModelId == modelId);
        var model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}"));
        Assert.Equal(next.AddDays(1), DateTimeOffset.Parse(model["schedule"]!["nextRunAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));

        var run = await FinishedAsync(api, fired.RunId!);
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Assert.Equal("schedule", run["trigger"]!.GetValue<string>());
        Assert.NotNull(run["trainingRunId"]);
        var decision = run["retrainDecision"]!.GetValue<string>();
        Report("retrain decision: " + decision);
        // Same data and seed: the new version is as good on held-out auc, so it is activated and used.
        Assert.Contains("activated", decision);
        Assert.Contains("auc", decision);
        model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{modelId}"));
        Assert.Equal(2, model["versions"]!.AsArray().Count);
        Assert.NotEqual(v1, model["activeVersionId"]!.GetValue<string>());
        Assert.Equal(model["activeVersionId"]!.GetValue<string>(), run["versionId"]!.GetValue<string>());
        await api.DeleteAsync($"/api/v1/models/{modelId}/schedule");
    }

    [Fact]
    public async Task Bad_requests_are_problems_with_the_right_status_and_never_500()
    {
        using var api = host.Api();
        async Task<JsonNode> Expect(HttpStatusCode status, HttpResponseMessage response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} {text}");
            return JsonNode.Parse(text)!;
        }
        var m = bank.ModelId;
        await Expect(HttpStatusCode.NotFound, await api.PostAsJsonAsync("/api/v1/models/nope/score", new { }));
        await Expect(HttpStatusCode.NotFound, await api.PostAsJsonAsync($"/api/v1/models/{m}/score", new { target = new { datasetId = "nope" } }));
        await Expect(HttpStatusCode.BadRequest, await api.PostAsJsonAsync($"/api/v1/models/{m}/score", new { target = "x" }));
        await Expect(HttpStatusCode.BadRequest, await api.PostAsJsonAsync($"/api/v1/models/{m}/score", new { target = new { datasetId = bank.DatasetId, snapshot = true } }));
        await Expect(HttpStatusCode.BadRequest, await api.PostAsJsonAsync($"/api/v1/models/{m}/score", new { target = new { snapshot = "yes" } }));
        await Expect(HttpStatusCode.BadRequest, await api.PostAsync($"/api/v1/models/{m}/score", new StringContent("{ nope", System.Text.Encoding.UTF8, "application/json")));
        await Expect(HttpStatusCode.NotFound, await api.GetAsync("/api/v1/scoring-runs/nope"));
        await Expect(HttpStatusCode.NotFound, await api.GetAsync("/api/v1/models/nope/scoring-runs"));
        await Expect(HttpStatusCode.BadRequest, await api.GetAsync($"/api/v1/models/{m}/scoring-runs?limit=0"));

        var cron = await Expect((HttpStatusCode)422, await api.PutAsJsonAsync($"/api/v1/models/{m}/schedule", new { cron = "every day" }));
        Assert.NotNull(cron["errors"]!["cron"]);
        await Expect((HttpStatusCode)422, await api.PutAsJsonAsync($"/api/v1/models/{m}/schedule", new { cron = "61 * * * *" }));
        await Expect(HttpStatusCode.BadRequest, await api.PutAsJsonAsync($"/api/v1/models/{m}/schedule", new { cron = 5 }));
        await Expect(HttpStatusCode.BadRequest, await api.PutAsJsonAsync($"/api/v1/models/{m}/schedule", new { retrain = true }));
        await Expect(HttpStatusCode.BadRequest, await api.PutAsJsonAsync($"/api/v1/models/{m}/schedule", new { cron = "0 3 * * *", retrain = "no" }));
        var cleared = await Expect(HttpStatusCode.OK, await api.PutAsJsonAsync($"/api/v1/models/{m}/schedule", new { cron = (string?)null }));
        Assert.Null(cleared["cron"]);
        Assert.Null(cleared["nextRunAt"]);
        await Expect(HttpStatusCode.NotFound, await api.PutAsJsonAsync("/api/v1/models/nope/schedule", new { cron = "0 3 * * *" }));
        await Expect(HttpStatusCode.NotFound, await api.PostAsJsonAsync("/api/v1/models/nope/predict", new { @namespace = "CRMID", id = "C-5" }));
        await Expect(HttpStatusCode.BadRequest, await api.PostAsJsonAsync($"/api/v1/models/{m}/predict", new { @namespace = "CRMID", id = new[] { 1 } }));

        // No active version yet: 409 for scoring and for predict.
        var untrained = (await ScoringFixture.Post(api, "/api/v1/models", new
        {
            name = Unique("untrained"), recipe = "propensity", source = new { datasetId = bank.DatasetId }, label = new { field = "y", positive = "yes" },
        }))["id"]!.GetValue<string>();
        await Expect(HttpStatusCode.Conflict, await api.PostAsJsonAsync($"/api/v1/models/{untrained}/score", new { }));
        await Expect(HttpStatusCode.Conflict, await api.PostAsJsonAsync($"/api/v1/models/{untrained}/predict", new { @namespace = "CRMID", id = "C-5" }));

        // A dataset without data: 422.
        var emptySchema = (await ScoringFixture.Post(api, "/api/v1/schemas", new { name = Unique("Bank empty schema"), @class = "profile", fields = BankFields }))["id"]!.GetValue<string>();
        var emptyNoData = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name = Unique("Bank empty"), schemaId = emptySchema }))["id"]!.GetValue<string>();
        await Expect((HttpStatusCode)422, await api.PostAsJsonAsync($"/api/v1/models/{m}/score", new { target = new { datasetId = emptyNoData } }));

        // Roles and sandboxes.
        using var viewer = host.Api(await host.KeyAsync("viewer"));
        await Expect(HttpStatusCode.Forbidden, await viewer.PostAsJsonAsync($"/api/v1/models/{m}/score", new { }));
        await Expect(HttpStatusCode.Forbidden, await viewer.PutAsJsonAsync($"/api/v1/models/{m}/schedule", new { cron = "0 3 * * *" }));
        await Expect(HttpStatusCode.Forbidden, await viewer.PostAsJsonAsync($"/api/v1/models/{m}/predict", new { @namespace = "CRMID", id = "C-5" }));
        await Expect(HttpStatusCode.OK, await viewer.GetAsync($"/api/v1/models/{m}/scoring-runs"));
        using var scientist = host.Api(await host.KeyAsync("scientist"));
        await Expect(HttpStatusCode.OK, await scientist.PostAsJsonAsync($"/api/v1/models/{m}/predict", new { @namespace = "CRMID", id = "C-5" }));
        using var other = host.Api(await host.KeyAsync("admin", "scoring-other"));
        await Expect(HttpStatusCode.NotFound, await other.PostAsJsonAsync($"/api/v1/models/{m}/score", new { }));
        await Expect(HttpStatusCode.NotFound, await other.GetAsync($"/api/v1/models/{m}/scoring-runs"));
        await Expect(HttpStatusCode.NotFound, await other.PostAsJsonAsync($"/api/v1/models/{m}/predict", new { @namespace = "CRMID", id = "C-5" }));
    }
}
