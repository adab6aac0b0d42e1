using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Tests.Api;

namespace Enrichment.Portal.Web.Tests.ScaleOut;

/// <summary>
/// Not a test: the scale-out benchmark of docs/BENCHMARKS.md ("PostgreSQL and workers"), skipped unless
/// <c>EP_BENCH_SCALEOUT</c> gives the records per batch (and <c>EP_TEST_POSTGRES</c> the server). For 1 and then 2
/// <c>--worker</c> processes beside a portal with <c>Jobs:Server=false</c>: two profile batches of N new customers each (two
/// datasets of one sandbox; one batch with <c>EP_BENCH_BATCHES=1</c>) uploaded at once, timed from the uploads to every batch
/// successful; then a model trained on the first dataset (not timed) and one scoring run of its N profiles, timed from the
/// request to the run's success. With <c>EP_BENCH_SANDBOXES=2</c> the two batches go to two sandboxes, each sandbox trains its
/// own model, and the two scoring runs are requested at once and timed to the last one's success.
/// Run: <c>EP_BENCH_SCALEOUT=100000 dotnet test tests/Enrichment.Portal.Web.Tests -- --filter-class '*ScaleOutBenchmark'</c>.
/// </summary>
public sealed class ScaleOutBenchmark
{
    private static void Report(string line)
    {
        var text = $"{DateTime.UtcNow:HH:mm:ss} {line} (load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})";
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "scaleout-bench.log"), text + "\n");
    }

    [Fact]
    public async Task Batches_and_a_scoring_run_with_one_and_two_workers()
    {
        var admin = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
        var size = Environment.GetEnvironmentVariable("EP_BENCH_SCALEOUT");
        if (string.IsNullOrEmpty(admin) || string.IsNullOrEmpty(size)) Assert.Skip("Benchmark: set EP_BENCH_SCALEOUT=<records per batch> and EP_TEST_POSTGRES.");
        var n = int.Parse(size, CultureInfo.InvariantCulture);
        var workerCounts = (Environment.GetEnvironmentVariable("EP_BENCH_WORKERS") ?? "1,2").Split(',').Select(int.Parse).ToList();
        var batchCount = int.Parse(Environment.GetEnvironmentVariable("EP_BENCH_BATCHES") ?? "2", CultureInfo.InvariantCulture);
        Assert.InRange(batchCount, 1, 2);
        var sandboxes = int.Parse(Environment.GetEnvironmentVariable("EP_BENCH_SANDBOXES") ?? "1", CultureInfo.InvariantCulture);
        Assert.InRange(sandboxes, 1, 2);
        using var files = Core.Tests.TestData.NewTempDir();
        string Write(string name, string prefix)
        {
            var sb = new StringBuilder("id,email,age,balance,churned\n");
            for (var i = 0; i < n; i++)
            {
                var age = 20 + i * 7 % 50;
                sb.Append(CultureInfo.InvariantCulture, $"{prefix}{i},{prefix.ToLowerInvariant()}{i}@x.test,{age},{i * 37 % 5000 + 0.5},{((age > 50 && i % 3 != 0) || i % 11 == 0 ? "yes" : "no")}\n");
            }
            var p = Path.Combine(files.Path, name);
            File.WriteAllText(p, sb.ToString());
            return p;
        }
        var fileA = Write("a.csv", "A");
        var fileB = batchCount == 2 ? Write("b.csv", "B") : null;
        Report($"scale-out benchmark: {batchCount} batch(es) x {n:N0} records, workers {string.Join(",", workerCounts)}; {Environment.ProcessorCount} cores");

        foreach (var workers in workerCounts)
        {
            await using var cluster = new ScaleOutCluster(admin);
            try
            {
                await cluster.StartAsync(workers, portalRunsJobs: false);
                using var api = cluster.Portal.Api();
                api.Timeout = TimeSpan.FromMinutes(10);
                // The second batch goes to a dataset of the same sandbox, or with EP_BENCH_SANDBOXES=2 to a sandbox of its own.
                var clients = new List<HttpClient> { api };
                if (sandboxes == 2 && fileB is not null)
                {
                    var second = cluster.Portal.Api(await PortalHost.KeyAsync(api, "admin", "bench-b"));
                    second.Timeout = api.Timeout;
                    clients.Add(second);
                }
                var schemaA = await SchemaAsync(api);
                var a = await DatasetAsync(api, "Bench A", schemaA);
                var b = fileB is null ? null : await DatasetAsync(clients[^1], "Bench B", clients.Count == 2 ? await SchemaAsync(clients[1]) : schemaA);
                var targets = new List<(HttpClient Api, string Dataset)> { (api, a) };
                if (b is not null) targets.Add((clients[^1], b));

                var sw = Stopwatch.StartNew();
                var batches = new List<(HttpClient Api, string Id)> { (api, await UploadAsync(api, a, fileA)) };
                if (b is not null) batches.Add((clients[^1], await UploadAsync(clients[^1], b, fileB!)));
                foreach (var (client, batch) in batches)
                {
                    var done = await PortalHost.PollAsync(client, $"/api/v1/batches/{batch}", j => j["status"]!.GetValue<string>() is "success" or "failed", TimeSpan.FromMinutes(60));
                    Assert.True(done["status"]!.GetValue<string>() == "success", done.ToJsonString());
                }
                var batchWall = sw.Elapsed;
                var stages = await cluster.ScalarAsync<string>(
                    """
                    SELECT string_agg(b."Id" || ' ' || s."Name" || ' ' || round(extract(epoch FROM s."FinishedAt" - s."StartedAt")::numeric, 1) || ' s', '; ' ORDER BY b."Id", s."StartedAt")
                    FROM batch_stages s JOIN batches b ON b."Id" = s."BatchId" WHERE s."Name" <> 'upload'
                    """);
                Report($"{workers} worker(s): {batchCount} batch(es) x {n:N0} in {clients.Count} sandbox(es) -> {await cluster.ScalarAsync<long>("SELECT count(*) FROM profiles"):N0} profiles in {batchWall.TotalSeconds:F1} s; stages: {stages}");

                // One model per sandbox (trained one after the other, not timed); then every sandbox's scoring run at once.
                var models = new List<(HttpClient Api, string Model, string Dataset)>();
                foreach (var (client, dataset) in targets.Take(clients.Count))
                {
                    var model = (await ScoringFixture.Post(client, "/api/v1/models", new
                    {
                        name = "Bench churn", recipe = "propensity", source = new { datasetId = dataset },
                        label = new { field = "churned", positive = "yes" }, features = new[] { "age", "balance" },
                    }))["id"]!.GetValue<string>();
                    var train = await client.PostAsync($"/api/v1/models/{model}/train", null);
                    var trainRun = (await PortalHost.JsonAsync(train))["runId"]!.GetValue<string>();
                    var trained = await PortalHost.PollAsync(client, $"/api/v1/training-runs/{trainRun}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(30));
                    Assert.True(trained["status"]!.GetValue<string>() == "succeeded", trained.ToJsonString());
                    models.Add((client, model, dataset));
                }

                sw.Restart();
                var runs = new List<(HttpClient Api, string Run)>();
                foreach (var (client, model, dataset) in models)
                {
                    var score = await client.PostAsJsonAsync($"/api/v1/models/{model}/score", new { target = new { datasetId = dataset } });
                    Assert.True(score.StatusCode == HttpStatusCode.Accepted, await score.Content.ReadAsStringAsync());
                    runs.Add((client, (await PortalHost.JsonAsync(score))["runId"]!.GetValue<string>()));
                }
                long scored = 0;
                foreach (var (client, runId) in runs)
                {
                    var run = await PortalHost.PollAsync(client, $"/api/v1/scoring-runs/{runId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(60));
                    Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
                    scored += run["rowsScored"]!.GetValue<long>();
                }
                Report($"{workers} worker(s): {runs.Count} scoring run(s) of {scored:N0} profiles in all in {sw.Elapsed.TotalSeconds:F1} s; database {await cluster.ScalarAsync<long>("SELECT pg_database_size(current_database())") / 1048576} MB");
                foreach (var client in clients.Skip(1)) client.Dispose();
            }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"{e}\n{cluster.Logs()}"); }
        }
    }

    private static async Task<string> SchemaAsync(HttpClient api)
    {
        var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new
        {
            name = "Bench customer", @class = "profile",
            fields = new object[]
            {
                new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "email", type = "string", identity = new { @namespace = "Email" } },
                new { path = "age", type = "integer" }, new { path = "balance", type = "number" }, new { path = "churned", type = "string" },
            },
        }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        return schema;
    }

    private static async Task<string> DatasetAsync(HttpClient api, string name, string schema)
    {
        var id = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name, schemaId = schema }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{id}/enable-profile", null)).StatusCode);
        return id;
    }

    private static async Task<string> UploadAsync(HttpClient api, string dataset, string file)
    {
        var response = await BatchIngestionApiTests.UploadAsync(api, dataset, file);
        var body = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToJsonString());
        return body["id"]!.GetValue<string>();
    }
}
