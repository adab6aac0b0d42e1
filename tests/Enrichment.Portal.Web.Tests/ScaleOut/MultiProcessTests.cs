using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Tests.Api;

namespace Enrichment.Portal.Web.Tests.ScaleOut;

/// <summary>
/// The scale-out topology for real (issue #19): one portal with <c>Jobs:Server=false</c> and two <c>--worker</c> processes,
/// separate <c>dotnet</c> processes on one fresh PostgreSQL database and one data directory. A mixed workload (batches into
/// overlapping identities, streamed records, two training runs, a scoring run) must end with the same profiles, identities,
/// insights, lake rows and model versions as the same workload in one process, although the worker running the big batch,
/// the second training run and the scoring run is killed (-9) midway each time; a schedule fires once with three processes up.
/// </summary>
public sealed class MultiProcessTests
{
    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");

    [Fact]
    public async Task A_portal_and_two_workers_end_with_what_one_process_makes_although_workers_are_killed_midway()
    {
        var admin = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
        if (string.IsNullOrEmpty(admin)) Assert.Skip("EP_TEST_POSTGRES is not set: no PostgreSQL server for this run (CI starts one).");
        using var files = Core.Tests.TestData.NewTempDir();
        var data = Workload.Files(files.Path);

        StoreSnapshot reference;
        await using (var one = new ScaleOutCluster(admin))
        {
            try
            {
                await one.StartAsync(workers: 0, portalRunsJobs: true);
                Report("reference: one process up");
                await new Workload(one, data, kill: false, Report).RunAsync();
                reference = await StoreSnapshot.TakeAsync(one);
                Report($"reference: {reference.Profiles} profiles, {reference.Identities} identities");
            }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"reference run: {e}\n{one.Logs()}"); }
        }

        await using var cluster = new ScaleOutCluster(admin);
        try
        {
            await cluster.StartAsync(workers: 2, portalRunsJobs: false);
            Report("cluster: portal + 2 workers up");
            var workload = new Workload(cluster, data, kill: true, Report);
            await workload.RunAsync();
            var got = await StoreSnapshot.TakeAsync(cluster);
            Report($"cluster: {got.Profiles} profiles, {got.Identities} identities; killed {string.Join(", ", workload.Killed)}");

            Assert.Equal(3, workload.Killed.Count);
            Assert.Equal(reference.Profiles, got.Profiles);
            Assert.Equal(reference.Identities, got.Identities);
            Assert.Equal(reference.SuccessRows, got.SuccessRows);
            Assert.Equal(reference.LakeRows, got.LakeRows);
            Assert.Equal(reference.Versions, got.Versions);
            var missing = reference.ProfilesByIdentities.Keys.Except(got.ProfilesByIdentities.Keys).Take(3).ToList();
            Assert.True(missing.Count == 0, "profiles (by identities) missing in the cluster: " + string.Join(" | ", missing));
            var differing = reference.ProfilesByIdentities.Where(kv => got.ProfilesByIdentities[kv.Key] != kv.Value).Take(3)
                .Select(kv => $"{kv.Key}: {kv.Value} vs {got.ProfilesByIdentities[kv.Key]}").ToList();
            Assert.True(differing.Count == 0, "profiles that differ: " + string.Join(" | ", differing));
            Assert.Contains(reference.ProfilesByIdentities.Values, v => v.Contains("\"insights.Scale-out churn\"", StringComparison.Ordinal));

            await workload.ScheduleFiresOnceAsync();
        }
        catch (Exception e) { throw new Xunit.Sdk.XunitException($"{e}\n{cluster.Logs()}"); }
    }
}

/// <summary>The mixed workload, driven through the portal's HTTP API; with <c>kill</c>, the worker running each of three jobs is killed midway.</summary>
internal sealed class Workload(ScaleOutCluster cluster, Workload.Inputs files, bool kill, Action<string> report)
{
    public sealed record Inputs(string Customers, string Tiers, string Big);

    public List<string> Killed { get; } = [];
    private string modelId = "";
    private Task? replacement;

    /// <summary>The CSV files: customers; tiers of customers under other CRM ids (linked by e-mail); a big batch of new customers.</summary>
    public static Inputs Files(string dir)
    {
        static string Churned(int i, int age) => (age > 50 && i % 3 != 0) || i % 11 == 0 ? "yes" : "no";
        string Write(string name, string header, int n, Func<int, string> row)
        {
            var sb = new StringBuilder(header).Append('\n');
            for (var i = 0; i < n; i++) sb.Append(row(i)).Append('\n');
            var p = Path.Combine(dir, name);
            File.WriteAllText(p, sb.ToString());
            return p;
        }
        string Customer(string prefix, int i)
        {
            var age = 20 + i * 7 % 50;
            return string.Create(CultureInfo.InvariantCulture, $"{prefix}{i},{prefix.ToLowerInvariant()}{i}@x.test,{age},{i * 37 % 5000 + 0.5},{Churned(i, age)}");
        }
        const string header = "id,email,age,balance,churned";
        return new Inputs(
            Write("customers.csv", header, 3000, i => Customer("C", i)),
            Write("tiers.csv", "id,email,tier", 1500, i => $"T{i},c{2 * i}@x.test,{(i % 2 == 0 ? "gold" : "silver")}"),
            Write("big.csv", header, 20_000, i => Customer("B", i)));
    }

    private static readonly object[] Fields =
    [
        new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
        new { path = "email", type = "string", identity = new { @namespace = "Email" } },
        new { path = "age", type = "integer" }, new { path = "balance", type = "number" },
        new { path = "churned", type = "string" }, new { path = "tier", type = "string" },
    ];

    public async Task RunAsync()
    {
        using var api = cluster.Portal.Api();
        var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new { name = "Scale-out customer", @class = "profile", fields = Fields }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        var customers = await DatasetAsync(api, "Customers", schema);
        var tiers = await DatasetAsync(api, "Tiers", schema);
        var signups = await DatasetAsync(api, "Signups", schema);

        // Two batches at once into overlapping identities (tier records meet customers through their e-mail).
        var a = await UploadAsync(api, customers, files.Customers);
        var b = await UploadAsync(api, tiers, files.Tiers);
        await SucceededAsync(api, a);
        await SucceededAsync(api, b);
        report("batches 1 and 2 done");

        // The big batch: killed once some of its profile chunks are committed.
        var big = await UploadAsync(api, customers, files.Big);
        await KillMidwayAsync(big, async () => await cluster.ScalarAsync<long>("SELECT count(*) FROM profile_identities WHERE value LIKE 'b%@x.test'") > 0);
        await SucceededAsync(api, big, attempts: kill ? 2 : 1);
        report("big batch done");

        // Streamed records (the portal buffers and flushes them), linked to customers by e-mail.
        for (var r = 0; r < 5; r++)
        {
            var records = Enumerable.Range(r * 40, 40).Select(i => new { id = $"S{i}", email = $"c{3 * i + 1}@x.test" }).ToArray();
            var response = await api.PostAsJsonAsync($"/api/v1/collection/{signups}", records);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        await WaitAsync(async () => await cluster.ScalarAsync<long>(
            """SELECT coalesce(sum(b."RecordsWritten"), 0) FROM batches b WHERE b."DatasetId" = $1 AND b."Status" = 'success'""", signups) == 200, "streamed records");
        report("streaming done");

        // Two training runs of one model (same seed: the same version twice); the second is killed midway.
        modelId = (await ScoringFixture.Post(api, "/api/v1/models", new
        {
            name = "Scale-out churn", recipe = "propensity", source = new { datasetId = customers },
            label = new { field = "churned", positive = "yes" }, features = new[] { "age", "balance" },
        }))["id"]!.GetValue<string>();
        await TrainAsync(api, killMidway: false);
        await TrainAsync(api, killMidway: kill);
        report("training done");

        // A scoring run of every customer, killed while its scores batch is being ingested.
        var score = await api.PostAsJsonAsync($"/api/v1/models/{modelId}/score", new { target = new { datasetId = customers } });
        Assert.True(score.StatusCode == HttpStatusCode.Accepted, await score.Content.ReadAsStringAsync());
        var runId = (await PortalHost.JsonAsync(score))["runId"]!.GetValue<string>();
        await KillMidwayAsync(runId, async () => await cluster.ScalarAsync<double>("""SELECT "Progress" FROM scoring_runs WHERE "Id" = $1""", runId) >= 0.5);
        var run = await PortalHost.PollAsync(api, $"/api/v1/scoring-runs/{runId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(4));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Assert.Equal(23_000, run["rowsScored"]!.GetValue<long>());
        Assert.Equal(kill ? 2 : 1, await cluster.AttemptsAsync(runId));
        report("scoring done");
        if (replacement is not null) await replacement;
    }

    /// <summary>A schedule due in a few seconds, with the portal and both workers checking schedules every second: one run.</summary>
    public async Task ScheduleFiresOnceAsync()
    {
        using var api = cluster.Portal.Api();
        var at = DateTime.UtcNow.AddSeconds(5);
        var cron = string.Create(CultureInfo.InvariantCulture, $"{at.Second} {at.Minute} {at.Hour} * * *");
        var set = await api.PutAsJsonAsync($"/api/v1/models/{modelId}/schedule", new { cron });
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
        const string count = """SELECT count(*) FROM scoring_runs WHERE "ModelId" = $1 AND "Trigger" = 'schedule'""";
        await WaitAsync(async () => await cluster.ScalarAsync<long>(count, modelId) > 0, "the scheduled run", TimeSpan.FromSeconds(40));
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(1, await cluster.ScalarAsync<long>(count, modelId));
        report("the schedule fired once");
        await api.DeleteAsync($"/api/v1/models/{modelId}/schedule");
    }

    private async Task TrainAsync(HttpClient api, bool killMidway)
    {
        var train = await api.PostAsync($"/api/v1/models/{modelId}/train", null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var runId = (await PortalHost.JsonAsync(train))["runId"]!.GetValue<string>();
        if (killMidway)
            await KillMidwayAsync(runId, async () => await cluster.ScalarAsync<double>("""SELECT "Progress" FROM training_runs WHERE "Id" = $1""", runId) > 0.05);
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{runId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(4));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Assert.Equal(killMidway ? 2 : 1, await cluster.AttemptsAsync(runId));
    }

    /// <summary>With <c>kill</c>: kills the worker running the job once <paramref name="midway"/> holds and starts a new worker in its place.</summary>
    private async Task KillMidwayAsync(string targetId, Func<Task<bool>> midway)
    {
        if (!kill) return;
        if (replacement is not null) await replacement;
        var dead = await cluster.KillRunnerAsync(targetId, midway);
        Killed.Add($"{dead.Name} during {targetId}");
        report($"killed {dead.Name} (pid {dead.ProcessId}) running {targetId}: {await cluster.JobRowAsync(targetId)}");
        replacement = cluster.ReplaceAsync(dead);
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

    private async Task SucceededAsync(HttpClient api, string batch, int attempts = 1)
    {
        var done = await PortalHost.PollAsync(api, $"/api/v1/batches/{batch}", j => j["status"]!.GetValue<string>() is "success" or "failed" or "abandoned", TimeSpan.FromMinutes(4));
        Assert.True(done["status"]!.GetValue<string>() == "success", done.ToJsonString());
        Assert.Equal(attempts, await cluster.AttemptsAsync(batch));
    }

    private static async Task WaitAsync(Func<Task<bool>> done, string what, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (DateTime.UtcNow < until)
        {
            if (await done()) return;
            await Task.Delay(200);
        }
        throw new TimeoutException("Waited in vain for " + what);
    }
}
