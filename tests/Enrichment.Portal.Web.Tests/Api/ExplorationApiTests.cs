using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

public sealed class ExplorationApiTests(PortalHost host)
{
    [Fact]
    public async Task Bank_marketing_stats_with_target_y_are_complete_match_duckdb_and_flag_duration_as_a_possible_leak()
    {
        var bank = await LakeTestData.BankAsync(host);
        using var api = host.Api(await host.KeyAsync("scientist"));

        var response = await api.GetAsync($"/api/v1/datasets/{bank.Id}/stats?target=y&positive=yes");
        var stats = await PortalHost.JsonAsync(response);

        Assert.True(response.StatusCode == HttpStatusCode.OK, stats.ToJsonString());
        Assert.Equal(45_211, stats["rows"]!.GetValue<long>());
        Assert.Equal("binary", stats["targetKind"]!.GetValue<string>());
        var columns = stats["columns"]!.AsArray().Select(c => c!).ToList();
        Assert.Equal(17, columns.Count);
        foreach (var c in columns)
        {
            var name = c["name"]!.GetValue<string>();
            Assert.Equal(1.0, c["completeness"]!.GetValue<double>());
            var direct = Convert.ToInt64(LakeTestData.Scalar($"SELECT count(DISTINCT \"{name}\") FROM read_parquet('{bank.PartFile}')"));
            Assert.True(direct == c["distinct"]!.GetValue<long>(), $"{name}: {c["distinct"]} vs DuckDB {direct}");
            Assert.NotNull(c["warnings"]);
            Assert.NotNull(c["topValues"]);
            Assert.NotNull(c["histogram"]);
        }
        var duration = columns.Single(c => c["name"]!.GetValue<string>() == "duration");
        Assert.Contains("possible-leak", duration["warnings"]!.AsArray().Select(w => w!.GetValue<string>()));
        Assert.InRange(duration["targetSignal"]!.GetValue<double>(), 0.80, 0.90);
        Assert.Equal("auc", duration["targetSignalKind"]!.GetValue<string>());
        Assert.Equal(Convert.ToDouble(LakeTestData.Scalar($"SELECT avg(duration) FROM read_parquet('{bank.PartFile}')")), duration["mean"]!.GetValue<double>(), 6);
        Assert.NotEmpty(duration["histogram"]!.AsArray());
        Assert.Equal("duration", stats["targetRanking"]![0]!["column"]!.GetValue<string>());
        Assert.True(stats["targetRanking"]![0]!["possibleLeak"]!.GetValue<bool>());
        var balance = columns.Single(c => c["name"]!.GetValue<string>() == "balance");
        Assert.Equal(3, balance["rejectedRecords"]!.GetValue<long>());
        Assert.Contains("rejected-records", balance["warnings"]!.AsArray().Select(w => w!.GetValue<string>()));
        var job = columns.Single(c => c["name"]!.GetValue<string>() == "job");
        Assert.Equal("blue-collar", job["topValues"]![0]!["value"]!.GetValue<string>());

        // Reopening is served from the cache of this dataset version.
        var watch = Stopwatch.StartNew();
        var again = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{bank.Id}/stats?target=y&positive=yes"));
        Assert.True(again["cached"]!.GetValue<bool>());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"cached answer took {watch.Elapsed}");
        Assert.Equal(stats["computedAt"]!.ToString(), again["computedAt"]!.ToString());
    }

    [Fact]
    public async Task Post_starts_a_background_job_whose_result_the_get_then_serves_from_the_cache()
    {
        var bank = await LakeTestData.BankAsync(host);
        using var api = host.Api(await host.KeyAsync("scientist"));

        var started = await api.PostAsync($"/api/v1/datasets/{bank.Id}/stats?target=housing", null);
        var body = await PortalHost.JsonAsync(started);
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, body.ToJsonString());
        var jobId = body["jobId"]!.GetValue<string>();
        var job = await PortalHost.PollAsync(api, $"/api/v1/jobs/{jobId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled");
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal("dataset-stats", job["kind"]!.GetValue<string>());

        var stats = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{bank.Id}/stats?target=housing"));
        Assert.True(stats["cached"]!.GetValue<bool>());
        Assert.Equal("housing", stats["target"]!.GetValue<string>());
        Assert.Equal(45_211, stats["rows"]!.GetValue<long>());
        var cachedPost = await api.PostAsync($"/api/v1/datasets/{bank.Id}/stats?target=housing", null);
        Assert.Equal(HttpStatusCode.OK, cachedPost.StatusCode);
    }

    [Fact]
    public async Task A_new_batch_makes_a_new_version_and_the_stats_are_computed_again()
    {
        using var api = host.Api();
        var ds = await LakeTestData.CreateAsync(host, api, Unique("Versions"), [new { path = "x", type = "integer" }], "SELECT range AS x FROM range(10)");
        var first = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds.Id}/stats"));
        Assert.Equal(10, first["rows"]!.GetValue<long>());

        var second = Path.Combine(Path.GetDirectoryName(ds.BatchFolder)!, Core.Ids.New());
        Directory.CreateDirectory(second);
        LakeTestData.Scalar($"COPY (SELECT range AS x FROM range(5)) TO '{Path.Combine(second, "part-00000.parquet")}' (FORMAT parquet)");
        await File.WriteAllTextAsync(Path.Combine(second, "_SUCCESS"), "");

        var after = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds.Id}/stats"));
        Assert.Equal(15, after["rows"]!.GetValue<long>());
        Assert.False(after["cached"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Unknown_dataset_is_404_no_data_422_unknown_target_400_and_a_viewer_403()
    {
        var bank = await LakeTestData.BankAsync(host);
        using var api = host.Api();
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/datasets/nope/stats")).StatusCode);
        var schema = await CreateAsync(api, "/api/v1/schemas", new { name = Unique("Empty schema"), @class = "profile", fields = new[] { new { path = "a", type = "string" } } });
        var empty = await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Empty"), schemaId = schema.Id() });
        Assert.Equal((HttpStatusCode)422, (await api.GetAsync($"/api/v1/datasets/{empty.Id()}/stats")).StatusCode);
        var unknownTarget = await api.GetAsync($"/api/v1/datasets/{bank.Id}/stats?target=nope");
        Assert.Equal(HttpStatusCode.BadRequest, unknownTarget.StatusCode);
        Assert.Contains("nope", (await PortalHost.JsonAsync(unknownTarget))["detail"]!.GetValue<string>());
        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/api/v1/datasets/{bank.Id}/stats")).StatusCode);
        using var otherSandbox = host.Api(await host.KeyAsync("admin", "dev"));
        Assert.Equal(HttpStatusCode.NotFound, (await otherSandbox.GetAsync($"/api/v1/datasets/{bank.Id}/stats")).StatusCode);
    }
}
