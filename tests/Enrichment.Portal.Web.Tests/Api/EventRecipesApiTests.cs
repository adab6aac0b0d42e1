using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Tests.LakeSeed;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// A quarter of the Online Retail customers (CustomerID divisible by 4: about 1,100 customers and 100k purchase lines, cancellations
/// and non-positive lines left out) ingested through the API into an event dataset (<c>purchase</c> events with an amount), and a
/// profile dataset of the customers who bought before <see cref="Cutoff"/> (customerId, country). Shared by the event-recipe tests.
/// </summary>
public sealed class RetailEventsFixture(PortalHost host) : IAsyncLifetime
{
    public const string Cutoff = "2011-09-01";
    public string EventDatasetId { get; private set; } = "";
    public string ProfileDatasetId { get; private set; } = "";
    public long Events { get; private set; }
    public long Customers { get; private set; }

    public static readonly object[] EventFields =
    [
        new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
        new { path = "invoiceNo", type = "string" }, new { path = "stockCode", type = "string" }, new { path = "amount", type = "number" },
        new { path = "timestamp", type = "datetime", required = true }, new { path = "eventType", type = "string", required = true },
    ];

    public static readonly object[] ProfileFields =
    [
        new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
        new { path = "country", type = "string" },
    ];

    public async ValueTask InitializeAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "ep-testdata", "models-events");
        Directory.CreateDirectory(folder);
        var events = Once(Path.Combine(folder, "retail_quarter_events.parquet"), tmp => $$"""
            COPY (SELECT CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS customerId, InvoiceNo AS invoiceNo, StockCode AS stockCode,
                         round(Quantity * UnitPrice, 2) AS amount, InvoiceDate AS "timestamp", 'purchase' AS eventType
                  FROM read_csv('{{TestData.Decompressed("online_retail/online_retail.csv.gz")}}', header = true,
                                types = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'InvoiceDate': 'TIMESTAMP'}, timestampformat = '%Y-%m-%d %H:%M:%S')
                  WHERE CustomerID IS NOT NULL AND CAST(CustomerID AS BIGINT) % 4 = 0 AND NOT starts_with(InvoiceNo, 'C') AND Quantity * UnitPrice > 0
                  ORDER BY InvoiceDate, InvoiceNo, StockCode)
            TO '{{tmp}}' (FORMAT parquet)
            """);
        var profiles = Once(Path.Combine(folder, "retail_quarter_customers.parquet"), tmp => $"""
            COPY (SELECT CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS customerId, arg_max(Country, InvoiceDate) AS country
                  FROM read_csv('{TestData.Decompressed("online_retail/online_retail.csv.gz")}', header = true, types = {"{'InvoiceNo': 'VARCHAR', 'InvoiceDate': 'TIMESTAMP'}"}, timestampformat = '%Y-%m-%d %H:%M:%S')
                  WHERE CustomerID IS NOT NULL AND CAST(CustomerID AS BIGINT) % 4 = 0 AND NOT starts_with(InvoiceNo, 'C') AND Quantity * UnitPrice > 0
                        AND InvoiceDate < TIMESTAMP '{Cutoff}'
                  GROUP BY 1 ORDER BY 1)
            TO '{tmp}' (FORMAT parquet)
            """);

        using var api = host.Api();
        EventDatasetId = await BatchIngestionApiTests.DatasetAsync(api, new { name = Unique("Retail events"), @class = "event", fields = EventFields });
        var e = await BatchIngestionApiTests.IngestAsync(api, EventDatasetId, events);
        Assert.True(e["status"]!.GetValue<string>() == "success", e.ToJsonString());
        Events = e["recordsWritten"]!.GetValue<long>();
        ProfileDatasetId = await BatchIngestionApiTests.DatasetAsync(api, new { name = Unique("Retail customers"), @class = "profile", fields = ProfileFields });
        var p = await BatchIngestionApiTests.IngestAsync(api, ProfileDatasetId, profiles);
        Assert.True(p["status"]!.GetValue<string>() == "success", p.ToJsonString());
        Customers = p["recordsWritten"]!.GetValue<long>();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static readonly object Gate = new();

    private static string Once(string path, Func<string, string> sql)
    {
        lock (Gate)
        {
            if (File.Exists(path)) return path;
            var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            Sql(sql(tmp));
            File.Move(tmp, path, overwrite: true);
            return path;
        }
    }
}

/// <summary>
/// The recipes that read events (CLV regression, churn with a label from events, affinity, engagement) through the API: create,
/// train, poll the run, and check the metrics API.md names against the recipe's naive baseline; and a bad parameter set per recipe
/// is a 422 problem naming the field.
/// </summary>
public sealed class EventRecipesApiTests(PortalHost host, RetailEventsFixture retail) : IClassFixture<RetailEventsFixture>
{
    private static void Report(string line)
    {
        Xunit.TestContext.Current.TestOutputHelper?.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "ep-models-api-metrics.txt"), DateTime.Now.ToString("HH:mm:ss ") + line + Environment.NewLine);
    }

    private static async Task<JsonNode> TrainedAsync(HttpClient api, object model)
    {
        var created = await api.PostAsJsonAsync("/api/v1/models", model);
        var json = await PortalHost.JsonAsync(created);
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"{(int)created.StatusCode} {json.ToJsonString()}");
        var train = await api.PostAsync($"/api/v1/models/{json["id"]!.GetValue<string>()}/train", null);
        var started = await PortalHost.JsonAsync(train);
        Assert.True(train.StatusCode == HttpStatusCode.Accepted, $"{(int)train.StatusCode} {started.ToJsonString()}");
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{started["runId"]!.GetValue<string>()}",
            r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Assert.Equal(1.0, run["progress"]!.GetValue<double>());
        Assert.Contains(run["grade"]!.GetValue<string>(), new[] { "A", "B", "C" });
        Assert.NotNull(run["versionId"]);
        Assert.Null(run["error"]);
        return run;
    }

    private static double M(JsonNode run, string section, string name)
    {
        var v = run[section]?[name];
        Assert.True(v is not null, $"{section}.{name} missing: {run[section]?.ToJsonString()}");
        return v!.GetValue<double>();
    }

    /// <summary>POST /models with <paramref name="body"/> must be 422 with errors.<paramref name="field"/>; returns the problem.</summary>
    private static async Task<JsonNode> Expect422Async(HttpClient api, object body, string field)
    {
        var response = await api.PostAsJsonAsync("/api/v1/models", body);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == (HttpStatusCode)422, $"{(int)response.StatusCode} {json.ToJsonString()}");
        Assert.True(json["errors"]?[field] is not null, $"expected errors.{field}: {json.ToJsonString()}");
        Report($"422 {field}: {json["errors"]![field]!.ToJsonString()}");
        return json;
    }

    [Fact]
    public async Task Clv_regression_reports_rmse_mae_r2_gini_and_is_not_worse_than_the_naive_baseline()
    {
        using var api = host.Api();
        var run = await TrainedAsync(api, new
        {
            name = Unique("clv regression"), recipe = "clv",
            parameters = new { method = "regression", eventDatasetId = retail.EventDatasetId, amountField = "amount", calibrationEnd = "2011-09-08", horizon = 13, timeUnit = "weeks" },
        });
        Report($"api clv regression ({retail.Events} events): {run["metrics"]!.ToJsonString()} baseline={run["baseline"]!.ToJsonString()} grade={run["grade"]} rows={run["trainRows"]}+{run["testRows"]}");
        foreach (var m in new[] { "rmse", "mae", "r2", "gini" }) Assert.True(double.IsFinite(M(run, "metrics", m)), m);
        Assert.True(M(run, "metrics", "mae") >= 0 && M(run, "metrics", "rmse") >= M(run, "metrics", "mae"));
        // The naive baseline of the issue is the past spend rate carried forward (baseline.rateMae). baseline.mae is the better of it and
        // "last-horizon spend repeated" (recentMae), which the grade uses. The regression's target (spend or log(1 + spend)) is chosen
        // for MAE on a validation part of the training customers; on this quarter of the customers (667 to train) log(1 + spend) wins,
        // which trades RMSE for MAE, and the model does not beat last-horizon spend repeated: the grade must then say C. (On all the
        // customers it beats both baselines on MAE and RMSE: Core ClvRecipeTests.Online_retail_regression_with_history_features...)
        Assert.True(M(run, "metrics", "mae") <= M(run, "baseline", "rateMae"), $"MAE {M(run, "metrics", "mae")} worse than the naive baseline {M(run, "baseline", "rateMae")}");
        var (mae, best) = (M(run, "metrics", "mae"), M(run, "baseline", "mae"));
        Assert.Equal(mae <= 0.8 * best ? "A" : mae < best ? "B" : "C", run["grade"]!.GetValue<string>());
        Assert.True(M(run, "metrics", "gini") > 0.3, $"gini {M(run, "metrics", "gini")}");
        Assert.True(run["testRows"]!.GetValue<int>() > 100);
    }

    [Fact]
    public async Task Churn_with_a_label_from_events_reaches_auc_above_055_on_held_out_profiles()
    {
        using var api = host.Api();
        var run = await TrainedAsync(api, new
        {
            name = Unique("churn events"), recipe = "churn", source = new { datasetId = retail.ProfileDatasetId },
            parameters = new { eventDatasetId = retail.EventDatasetId, eventType = "purchase", cutoff = RetailEventsFixture.Cutoff, windowDays = 90, amountField = "amount" },
        });
        Report($"api churn from events ({retail.Customers} customers): {run["metrics"]!.ToJsonString()} baseline={run["baseline"]!.ToJsonString()} grade={run["grade"]} trainer={run["trainer"]}");
        foreach (var m in new[] { "auc", "prAuc", "logLoss", "f1", "accuracy", "lift10" }) Assert.True(double.IsFinite(M(run, "metrics", m)), m);
        Assert.True(M(run, "metrics", "auc") > 0.55, $"AUC {M(run, "metrics", "auc")}");
        // The baseline is the best single column (here recency, which alone nearly defines churn from events): the model
        // is not required to beat it by much, and its grade says so; it must beat chance and the class prior.
        Assert.True(M(run, "metrics", "auc") > M(run, "baseline", "auc") - 0.05);
        Assert.True(M(run, "metrics", "logLoss") < M(run, "baseline", "priorLogLoss"), "log loss not better than the class prior");
        Assert.Equal(retail.Customers, run["trainRows"]!.GetValue<long>() + run["testRows"]!.GetValue<long>());
        var importance = run["featureImportance"]!.AsArray().Select(f => f!["feature"]!.GetValue<string>()).ToArray();
        Assert.Contains(importance, f => f.StartsWith("ev_", StringComparison.Ordinal));
        Assert.DoesNotContain("customerId", importance);
    }

    [Fact]
    public async Task Affinity_reports_hit_rate_and_rules_and_beats_the_popularity_baseline()
    {
        using var api = host.Api();
        var run = await TrainedAsync(api, new
        {
            name = Unique("affinity"), recipe = "affinity",
            parameters = new { eventDatasetId = retail.EventDatasetId, itemField = "stockCode", basketField = "invoiceNo", topN = 5, minSupport = 0.02 },
        });
        Report($"api affinity: {run["metrics"]!.ToJsonString()} baseline={run["baseline"]!.ToJsonString()} grade={run["grade"]}");
        var hitRate = M(run, "metrics", "hitRate");
        Assert.InRange(hitRate, 0, 1);
        Assert.True(M(run, "metrics", "evaluatedProfiles") >= 50);
        Assert.True(M(run, "metrics", "rules") > 0);
        Assert.True(hitRate > M(run, "baseline", "hitRate"), $"hit rate {hitRate} vs popularity {M(run, "baseline", "hitRate")}");
        Assert.Equal(5, M(run, "fittedParameters", "topN"));
    }

    [Fact]
    public async Task Engagement_reports_auc_and_mean_score_and_beats_chance()
    {
        using var api = host.Api();
        var run = await TrainedAsync(api, new
        {
            name = Unique("engagement"), recipe = "engagement", parameters = new { eventDatasetId = retail.EventDatasetId, amountField = "amount" },
        });
        Report($"api engagement: {run["metrics"]!.ToJsonString()} baseline={run["baseline"]!.ToJsonString()} grade={run["grade"]}");
        Assert.InRange(M(run, "metrics", "meanScore"), 0, 100);
        Assert.True(M(run, "metrics", "profiles") > 500);
        Assert.True(M(run, "metrics", "auc") > 0.6, $"AUC {M(run, "metrics", "auc")}");
        Assert.True(double.IsFinite(M(run, "baseline", "auc")));
    }

    [Fact]
    public async Task Bad_clv_parameters_are_422_naming_the_field()
    {
        using var api = host.Api();
        var ev = retail.EventDatasetId;
        await Expect422Async(api, new { name = Unique("clv"), recipe = "clv", parameters = new { method = "regression", amountField = "amount", calibrationEnd = "2011-09-08" } }, "parameters.eventDatasetId");
        await Expect422Async(api, new { name = Unique("clv"), recipe = "clv", parameters = new { method = "regression", eventDatasetId = ev, amountField = "amount" } }, "parameters.calibrationEnd");
        var outside = await Expect422Async(api, new { name = Unique("clv"), recipe = "clv", parameters = new { method = "regression", eventDatasetId = ev, amountField = "amount", calibrationEnd = "2015-01-01" } }, "parameters.calibrationEnd");
        Assert.Contains("outside the event data", outside["detail"]!.GetValue<string>());
        await Expect422Async(api, new { name = Unique("clv"), recipe = "clv", parameters = new { method = "regression", eventDatasetId = ev, amountField = "price", calibrationEnd = "2011-09-08" } }, "parameters.amountField");
        await Expect422Async(api, new { name = Unique("clv"), recipe = "clv", parameters = new { method = "forest", eventDatasetId = ev, amountField = "amount", calibrationEnd = "2011-09-08" } }, "parameters.method");
    }

    [Fact]
    public async Task Bad_churn_from_events_parameters_are_422_naming_the_field()
    {
        using var api = host.Api();
        var source = new { datasetId = retail.ProfileDatasetId };
        var ev = retail.EventDatasetId;
        await Expect422Async(api, new { name = Unique("churn"), recipe = "churn", source, parameters = new { eventType = "purchase", cutoff = RetailEventsFixture.Cutoff, windowDays = 90 } }, "parameters.eventDatasetId");
        var type = await Expect422Async(api, new { name = Unique("churn"), recipe = "churn", source, parameters = new { eventDatasetId = ev, eventType = "login", cutoff = RetailEventsFixture.Cutoff, windowDays = 90 } }, "parameters.eventType");
        Assert.Contains("purchase", type["detail"]!.GetValue<string>());
        await Expect422Async(api, new { name = Unique("churn"), recipe = "churn", source, parameters = new { eventDatasetId = ev, eventType = "purchase", cutoff = "2009-01-01", windowDays = 90 } }, "parameters.cutoff");
        await Expect422Async(api, new { name = Unique("churn"), recipe = "churn", source, parameters = new { eventDatasetId = ev, eventType = "purchase", cutoff = "first of May", windowDays = 90 } }, "parameters.cutoff");
        await Expect422Async(api, new { name = Unique("churn"), recipe = "churn", source, parameters = new { eventDatasetId = ev, eventType = "purchase", cutoff = RetailEventsFixture.Cutoff, windowDays = -5 } }, "parameters.windowDays");
        await Expect422Async(api, new { name = Unique("churn"), recipe = "churn", source, parameters = new { eventDatasetId = "nope", eventType = "purchase", cutoff = RetailEventsFixture.Cutoff, windowDays = 90 } }, "parameters.eventDatasetId");
    }

    [Fact]
    public async Task Bad_affinity_parameters_are_422_naming_the_field()
    {
        using var api = host.Api();
        var ev = retail.EventDatasetId;
        await Expect422Async(api, new { name = Unique("aff"), recipe = "affinity", parameters = new { itemField = "stockCode" } }, "parameters.eventDatasetId");
        await Expect422Async(api, new { name = Unique("aff"), recipe = "affinity", parameters = new { eventDatasetId = ev } }, "parameters.itemField");
        await Expect422Async(api, new { name = Unique("aff"), recipe = "affinity", parameters = new { eventDatasetId = ev, itemField = "category" } }, "parameters.itemField");
        await Expect422Async(api, new { name = Unique("aff"), recipe = "affinity", parameters = new { eventDatasetId = ev, itemField = "stockCode", topN = 0 } }, "parameters.topN");
    }

    [Fact]
    public async Task Bad_engagement_parameters_are_422_naming_the_field()
    {
        using var api = host.Api();
        var ev = retail.EventDatasetId;
        await Expect422Async(api, new { name = Unique("eng"), recipe = "engagement", parameters = new { amountField = "amount" } }, "parameters.eventDatasetId");
        await Expect422Async(api, new { name = Unique("eng"), recipe = "engagement", parameters = new { eventDatasetId = ev, amountField = "revenue" } }, "parameters.amountField");
        await Expect422Async(api, new { name = Unique("eng"), recipe = "engagement", parameters = new { eventDatasetId = ev, customerField = "email" } }, "parameters.customerField");
    }
}
