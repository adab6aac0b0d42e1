using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

public sealed class QueryApiTests(PortalHost host)
{
    private static async Task<(HttpStatusCode Status, JsonNode Body)> QueryAsync(HttpClient api, object body)
    {
        var response = await api.PostAsJsonAsync("/api/v1/queries", body);
        return (response.StatusCode, await PortalHost.JsonAsync(response));
    }

    [Fact]
    public async Task Count_of_online_retail_is_541909_with_columns_elapsed_time_and_a_history_entry()
    {
        var retail = await LakeTestData.RetailAsync(host);
        var scientist = await host.KeyAsync("scientist");
        using var api = host.Api(scientist);

        var sql = $"SELECT count(*) AS n FROM {retail.Table}";
        var (status, body) = await QueryAsync(api, new { sql, limit = 10 });

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(541_909, body["rows"]![0]![0]!.GetValue<long>());
        Assert.Equal("n", body["columns"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("BIGINT", body["columns"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(1, body["rowCount"]!.GetValue<int>());
        Assert.False(body["truncated"]!.GetValue<bool>());
        Assert.True(body["elapsedMs"]!.GetValue<long>() >= 0);

        var history = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/queries/history"));
        var entry = history["items"]![0]!;
        Assert.Equal(sql, entry["sql"]!.GetValue<string>());
        Assert.Equal(1, entry["rowCount"]!.GetValue<int>());
        Assert.Null(entry["error"]);
    }

    [Fact]
    public async Task Results_past_the_limit_are_truncated_and_tables_list_the_datasets_with_their_columns()
    {
        var retail = await LakeTestData.RetailAsync(host);
        using var api = host.Api();

        var (status, body) = await QueryAsync(api, new { sql = $"SELECT Country, Quantity FROM {retail.Table} ORDER BY InvoiceNo", limit = 5 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5, body["rowCount"]!.GetValue<int>());
        Assert.True(body["truncated"]!.GetValue<bool>());
        var tables = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/queries/tables"));
        var table = tables["items"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == retail.Table)!;
        Assert.Contains(table["columns"]!.AsArray(), c => c!["name"]!.GetValue<string>() == "Country");
    }

    [Fact]
    public async Task Escape_attempts_through_the_endpoint_are_all_400_and_have_no_effect()
    {
        var retail = await LakeTestData.RetailAsync(host);
        using var api = host.Api(await host.KeyAsync("scientist"));
        var marker = Path.Combine(host.DataDirectory, "escaped-" + Guid.NewGuid().ToString("N"));
        var attached = Path.Combine(host.DataDirectory, "attached-" + Guid.NewGuid().ToString("N") + ".duckdb");
        var catalogDb = Path.Combine(host.DataDirectory, "catalog.db");

        // A dataset with data in sandbox dev: prod must not be able to read it.
        var devAdmin = host.Api(await host.KeyAsync("admin", "dev"));
        var secret = await LakeTestData.CreateAsync(host, devAdmin, Unique("Dev secrets"), [new { path = "secret", type = "string" }], "SELECT 'top secret' AS secret");
        using (devAdmin)
        {
            var (devStatus, devBody) = await QueryAsync(devAdmin, new { sql = $"SELECT secret FROM {secret.Table}" });
            Assert.True(devStatus == HttpStatusCode.OK, devBody.ToJsonString());
            Assert.Equal("top secret", devBody["rows"]![0]![0]!.GetValue<string>());
        }

        string[] attempts =
        [
            "SELECT * FROM read_csv('/etc/passwd')",
            "SELECT * FROM read_text('/etc/passwd')",
            "SELECT * FROM '/etc/passwd'",
            $"SELECT * FROM read_parquet('{secret.PartFile}')",
            $"SELECT * FROM read_parquet('{Path.Combine(host.DataDirectory, "lake", "**", "*.parquet")}')",
            $"SELECT * FROM sqlite_scan('{catalogDb}', 'api_keys')",
            "SELECT * FROM read_json('http://127.0.0.1:1/x')",
            $"COPY (SELECT 1) TO '{marker}'",
            $"COPY {retail.Table} TO '{marker}'",
            $"ATTACH '{attached}' AS other",
            $"ATTACH '{catalogDb}' AS catalog (TYPE sqlite)",
            "INSTALL httpfs",
            "LOAD httpfs",
            "SET enable_external_access = true",
            "SET allowed_paths = ['/']",
            "RESET lock_configuration",
            "PRAGMA enable_profiling",
            "CREATE TABLE t AS SELECT 1",
            "CREATE VIEW v AS SELECT * FROM read_csv('/etc/passwd')",
            $"DROP VIEW {retail.Table}",
            "SELECT 1; SELECT 2",
            $"SELECT 1; COPY (SELECT 1) TO '{marker}'",
            "EXPORT DATABASE '/tmp/x'",
            $"SELECT secret FROM {secret.Table}",
            "SELECT * FROM duckdb_settings() WHERE name = 'x'; DETACH memory",
        ];
        foreach (var sql in attempts)
        {
            var (status, body) = await QueryAsync(api, new { sql });
            Assert.True(status == HttpStatusCode.BadRequest, $"{sql}: {(int)status} {body.ToJsonString()}");
            Assert.False(string.IsNullOrWhiteSpace(body["detail"]?.GetValue<string>()), sql);
            Assert.DoesNotContain("root:", body.ToJsonString());
        }

        Assert.False(File.Exists(marker));
        Assert.False(File.Exists(attached));
        var (okStatus, ok) = await QueryAsync(api, new { sql = $"SELECT count(*) FROM {retail.Table}" });
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal(541_909, ok["rows"]![0]![0]!.GetValue<long>());
        var history = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/queries/history?limit=100"));
        Assert.Contains(history["items"]!.AsArray(), h => h!["sql"]!.GetValue<string>() == "INSTALL httpfs" && h["error"] is not null);
    }

    [Fact]
    public async Task A_very_long_query_is_cancelled_at_a_short_limit_with_a_504()
    {
        using var api = host.Api(await host.KeyAsync("scientist"));
        var watch = Stopwatch.StartNew();

        var (status, body) = await QueryAsync(api, new { sql = "SELECT count(*) FROM range(1000000000000) t WHERE hash(t.range) % 7 = 3", timeoutSeconds = 1 });

        Assert.True(status == HttpStatusCode.GatewayTimeout, body.ToJsonString());
        Assert.Equal("Query timed out", body["title"]!.GetValue<string>());
        Assert.Contains("time limit", body["detail"]!.GetValue<string>());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        var (again, _) = await QueryAsync(api, new { sql = "SELECT 42" });
        Assert.Equal(HttpStatusCode.OK, again);
    }

    [Fact]
    public async Task Bad_bodies_and_limits_are_400_not_500()
    {
        using var api = host.Api();
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(api, new { sql = "" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(api, new { sql = 5 })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(api, new { sql = "SELECT 1", limit = 0 })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(api, new { sql = "SELECT 1", limit = "many" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(api, new { sql = "SELECT * FROM no_such_table" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(api, new { sql = "SELEC 1" })).Status);
        var notJson = await api.PostAsync("/api/v1/queries", new StringContent("not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
    }

    [Fact]
    public async Task Save_as_dataset_creates_a_queryable_dataset_with_a_derived_schema_as_one_committed_batch()
    {
        var retail = await LakeTestData.RetailAsync(host);
        using var api = host.Api(await host.KeyAsync("scientist"));
        var name = Unique("Orders per country");

        var response = await api.PostAsJsonAsync("/api/v1/queries/save", new
        {
            sql = $"SELECT Country AS country, count(*) AS orders, sum(Quantity * UnitPrice) AS revenue FROM {retail.Table} GROUP BY Country",
            datasetName = name,
        });
        var saved = await PortalHost.JsonAsync(response);

        Assert.True(response.StatusCode == HttpStatusCode.Created, saved.ToJsonString());
        Assert.Equal(38, saved["rowCount"]!.GetValue<long>());
        var datasetId = saved["datasetId"]!.GetValue<string>();
        var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{datasetId}"));
        Assert.Equal(38, dataset["recordCount"]!.GetValue<long>());
        Assert.Equal(1, dataset["batchCount"]!.GetValue<int>());
        var schema = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/schemas/{dataset["schemaId"]!.GetValue<string>()}"));
        Assert.Equal("profile", schema["class"]!.GetValue<string>());
        var fields = schema["fields"]!.AsArray().ToDictionary(f => f!["path"]!.GetValue<string>(), f => f!["type"]!.GetValue<string>());
        Assert.Equal("string", fields["country"]);
        Assert.Equal("integer", fields["orders"]);
        Assert.Equal("number", fields["revenue"]);

        var table = Core.Query.TableSource.NormalizeName(name);
        var (status, body) = await QueryAsync(api, new { sql = $"SELECT count(*), sum(orders) FROM {table}" });
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(38, body["rows"]![0]![0]!.GetValue<long>());
        Assert.Equal(541_909, Convert.ToInt64(body["rows"]![0]![1]!.ToString()));

        var twice = await api.PostAsJsonAsync("/api/v1/queries/save", new { sql = "SELECT 1 AS one", datasetName = name });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        var rejected = await api.PostAsJsonAsync("/api/v1/queries/save", new { sql = "COPY (SELECT 1) TO '/tmp/x'", datasetName = Unique("Nope") });
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
    }

    [Fact]
    public async Task Events_saved_from_a_query_get_an_event_schema()
    {
        var retail = await LakeTestData.RetailAsync(host);
        using var api = host.Api();
        var response = await api.PostAsJsonAsync("/api/v1/queries/save", new
        {
            sql = $"SELECT CAST(CustomerID AS VARCHAR) AS customerId, InvoiceDate AS \"timestamp\", 'purchase' AS eventType, Quantity * UnitPrice AS amount FROM {retail.Table} WHERE CustomerID IS NOT NULL LIMIT 1000",
            datasetName = Unique("Purchases from query"),
        });
        var saved = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, saved.ToJsonString());
        Assert.Equal("event", saved["class"]!.GetValue<string>());
        Assert.Equal(1000, saved["rowCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_viewer_gets_403_on_queries_but_reads_its_own_history()
    {
        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT 1" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/queries/save", new { sql = "SELECT 1", datasetName = "x" })).StatusCode);
        var history = await viewer.GetAsync("/api/v1/queries/history");
        Assert.Equal(HttpStatusCode.OK, history.StatusCode);
        Assert.Empty((await PortalHost.JsonAsync(history))["items"]!.AsArray());
        using var anonymous = host.Api(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT 1" })).StatusCode);
    }
}
