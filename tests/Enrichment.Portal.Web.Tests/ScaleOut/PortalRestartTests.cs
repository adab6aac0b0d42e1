using System.Net;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Tests.Api;

namespace Enrichment.Portal.Web.Tests.ScaleOut;

/// <summary>
/// Issue #19, "the UI process restarted while a job runs": a portal (no jobs of its own) and one worker on PostgreSQL; the
/// portal is killed (-9) while the worker runs a big batch and started again. The worker finishes the batch undisturbed (one
/// attempt: the restarted portal's recovery must not hand it to the queue a second time), the new portal reports it finished
/// through the job and batch API, and the stores hold exactly one clean run's result.
/// </summary>
public sealed class PortalRestartTests
{
    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");

    private static readonly object[] Fields =
    [
        new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
        new { path = "email", type = "string", identity = new { @namespace = "Email" } },
        new { path = "age", type = "integer" }, new { path = "balance", type = "number" }, new { path = "churned", type = "string" },
    ];

    [Fact]
    public async Task The_portal_killed_while_a_worker_runs_a_batch_comes_back_and_reports_it_finished_with_one_clean_result()
    {
        var admin = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
        if (string.IsNullOrEmpty(admin)) Assert.Skip("EP_TEST_POSTGRES is not set: no PostgreSQL server for this run (CI starts one).");
        using var files = Core.Tests.TestData.NewTempDir();
        var big = Workload.Files(files.Path).Big; // 20,000 new customers, one CRM id and one e-mail each
        await using var cluster = new ScaleOutCluster(admin);
        try
        {
            await cluster.StartAsync(workers: 1, portalRunsJobs: false);
            using var api = cluster.Portal.Api();
            var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new { name = "Restart customer", @class = "profile", fields = Fields }))["id"]!.GetValue<string>();
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
            var dataset = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name = "Restart customers", schemaId = schema }))["id"]!.GetValue<string>();
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{dataset}/enable-profile", null)).StatusCode);
            var upload = await BatchIngestionApiTests.UploadAsync(api, dataset, big);
            Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
            var batch = (await PortalHost.JsonAsync(upload))["id"]!.GetValue<string>();

            // Midway on the worker: some profile chunks committed, not all.
            var until = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (true)
            {
                Assert.True(DateTime.UtcNow < until, "The batch was never seen running midway on the worker: " + await cluster.JobRowAsync(batch));
                var runner = await cluster.RunnerOfAsync(batch);
                var identities = await cluster.ScalarAsync<long>("SELECT count(*) FROM profile_identities");
                if (runner is not null && runner != cluster.Portal && identities is > 0 and < 40_000) break;
                await Task.Delay(50);
            }
            var old = cluster.Portal.ProcessId;
            await cluster.RestartPortalAsync(portalRunsJobs: false);
            Report($"killed the portal (pid {old}) while worker-1 ran batch {batch}; portal restarted (pid {cluster.Portal.ProcessId})");

            using var api2 = cluster.Portal.Api();
            var done = await PortalHost.PollAsync(api2, $"/api/v1/batches/{batch}", b => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned", TimeSpan.FromMinutes(4));
            Assert.True(done["status"]!.GetValue<string>() == "success", done.ToJsonString());
            var jobs = await PortalHost.JsonAsync(await api2.GetAsync("/api/v1/jobs?kind=ingestion"));
            var job = jobs["items"]!.AsArray().Single(j => j!["targetId"]!.GetValue<string>() == batch)!;
            Assert.Equal("succeeded", job["status"]!.GetValue<string>());
            Assert.Equal(1, job["attempts"]!.GetValue<int>());
            Assert.Equal(20_000, done["recordsWritten"]!.GetValue<long>());
            Assert.Equal(20_000, (await cluster.LakeRowsAsync())["Restart customers"]);
            Assert.Equal(20_000, await cluster.ScalarAsync<long>("SELECT count(*) FROM profiles"));
            Assert.Equal(40_000, await cluster.ScalarAsync<long>("SELECT count(*) FROM profile_identities"));
            Assert.Equal(20_000, await cluster.ScalarAsync<long>("SELECT count(*) FROM profile_fragments"));
            Assert.False(cluster.Workers[0].HasExited);
            Report("the worker finished the batch in one attempt; the restarted portal reports it succeeded; 20,000 profiles, 40,000 identities");
        }
        catch (Exception e) when (e is not Xunit.Sdk.SkipException) { throw new Xunit.Sdk.XunitException($"{e}\n{cluster.Logs()}"); }
    }
}
