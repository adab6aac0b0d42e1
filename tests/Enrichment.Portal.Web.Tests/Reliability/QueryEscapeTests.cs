using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// Escape attempts beyond those of <c>QueryApiTests</c> (relative and <c>../</c> paths, globs, <c>CALL</c>, settings
/// functions, writes hidden in CTEs, comment tricks, another sandbox's data directory) and runaway queries: refused with
/// a clear message or stopped (time limit, row cap), and the portal answers a normal query afterwards.
/// </summary>
public sealed class QueryEscapeTests(PortalHost host)
{
    [Fact]
    public async Task Escapes_are_refused_and_runaway_queries_are_stopped_with_a_clear_message()
    {
        using var api = host.Api(await host.KeyAsync("scientist", "escape-" + Guid.NewGuid().ToString("N")[..6]));
        var lake = Path.Combine(host.DataDirectory, "lake");
        string[] attempts =
        [
            "SELECT * FROM read_csv('../../../../etc/passwd')",
            "SELECT * FROM read_text('../catalog.db')",
            "SELECT * FROM 'catalog.db'",
            "SELECT * FROM read_parquet('../**/*.parquet')",
            $"SELECT * FROM glob('{lake}/**')",
            "SELECT * FROM glob('/etc/*')",
            "CALL pragma_version()",
            "CALL duckdb_settings()",
            "SELECT current_setting('allowed_directories')",
            "SELECT * FROM duckdb_settings()",
            "SELECT getenv('HOME')",
            "SELECT * FROM duckdb_extensions()",
            "SELECT * FROM duckdb_databases()",
            "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x",
            "WITH x AS (SELECT 1) DELETE FROM t",
            "WITH x AS (SELECT 1) COPY (SELECT 1) TO '/tmp/ep-escape'",
            "SELECT 1 /* ; */ ; ATTACH ':memory:' AS m",
            "SELECT 1 -- comment\n; INSTALL httpfs",
            "/* leading */ SET threads = 64",
            "SELECT 1;/**/DETACH memory",
            "SELECT * FROM read_csv_auto('/proc/self/environ')",
            "SELECT * FROM read_blob('/proc/self/cmdline')",
            "SELECT * FROM query('SELECT 1')",
            "SELECT * FROM query_table('duckdb_tables')",
            "PRAGMA database_list",
            "SELECT * FROM pragma_database_list",
            "SELECT * FROM information_schema.tables",
            "SELECT load_extension('x')",
        ];
        var wrong = new List<string>();
        foreach (var sql in attempts)
        {
            var response = await api.PostAsJsonAsync("/api/v1/queries", new { sql });
            var body = await PortalHost.JsonAsync(response);
            if (response.StatusCode != HttpStatusCode.BadRequest || string.IsNullOrWhiteSpace(body["detail"]?.GetValue<string>()))
                wrong.Add($"{sql}: {(int)response.StatusCode} {body.ToJsonString()}");
            if (body.ToJsonString().Contains(host.DataDirectory, StringComparison.Ordinal)) wrong.Add($"{sql}: the answer shows the data directory");
        }
        Assert.False(File.Exists("/tmp/ep-escape"), "a COPY hidden in a CTE wrote a file");

        // A runaway query: stopped by the time limit with 504.
        var slow = await api.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT count(*) FROM range(100000000000) a", timeoutSeconds = 2 });
        if (slow.StatusCode != HttpStatusCode.GatewayTimeout) wrong.Add($"runaway: {(int)slow.StatusCode} {await slow.Content.ReadAsStringAsync()}");
        // A cartesian product: the row cap truncates it (or the time / memory limit stops it), never a 500.
        var cross = await api.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT * FROM range(100000) a, range(100000) b, range(100000) c", limit = 1000, timeoutSeconds = 5 });
        var crossBody = await PortalHost.JsonAsync(cross);
        if (cross.StatusCode == HttpStatusCode.OK ? crossBody["rowCount"]!.GetValue<int>() > 1000 || crossBody["truncated"]?.GetValue<bool>() != true
                : (int)cross.StatusCode is not (400 or 504) || string.IsNullOrWhiteSpace(crossBody["detail"]?.GetValue<string>()))
            wrong.Add($"cartesian: {(int)cross.StatusCode} {crossBody.ToJsonString()[..Math.Min(300, crossBody.ToJsonString().Length)]}");
        var sorted = await api.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT a.range * b.range AS x FROM range(100000) a, range(100000) b ORDER BY x DESC", limit = 10, timeoutSeconds = 3 });
        if ((int)sorted.StatusCode >= 500 && sorted.StatusCode != HttpStatusCode.GatewayTimeout) wrong.Add($"sorted cartesian: {(int)sorted.StatusCode}");

        var ok = await api.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT 41 + 1 AS answer" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(42, (await PortalHost.JsonAsync(ok))["rows"]![0]![0]!.GetValue<int>());
        using var anon = host.Api(null);
        Assert.Equal(HttpStatusCode.OK, (await anon.GetAsync("/health")).StatusCode);
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "ep-reliability-query.txt"), $"query escapes: {attempts.Length} tried + 3 runaway, {wrong.Count} got through\n");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
