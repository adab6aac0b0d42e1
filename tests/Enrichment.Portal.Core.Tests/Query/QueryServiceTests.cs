using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Tests.Query;

public sealed class QueryServiceTests(RetailLakeFixture lake) : IClassFixture<RetailLakeFixture>
{
    private readonly QueryService _service = new(new QueryServiceOptions { MemoryLimit = "512MB", Threads = 2 });
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private Task<QueryResult> Run(string sql, int limit = 1000, TimeSpan? timeout = null) =>
        _service.ExecuteAsync(new QueryRequest { Sql = sql, Limit = limit, Timeout = timeout ?? TimeSpan.FromSeconds(30), Tables = lake.Tables }, Ct);

    [Theory]
    [InlineData("SELECT * FROM range(3)")]
    [InlineData("SELECT unnest([1, 2, 3]) AS x")]
    [InlineData("WITH duck AS (SELECT 1 AS a) SELECT * FROM duck")]
    [InlineData("SELECT count(*) FROM online_retail o JOIN (SELECT 1 AS k) k ON true")]
    public async Task Ordinary_queries_with_generators_and_ctes_still_run(string sql) =>
        Assert.NotNull(await Run(sql));

    [Fact]
    public async Task Catalog_functions_are_refused_without_showing_server_paths()
    {
        var e = await Assert.ThrowsAsync<QueryRejectedException>(() => Run("SELECT view_name, sql FROM duckdb_views()"));
        Assert.Contains("duckdb_views() is not available", e.Reason);
        Assert.DoesNotContain("/", e.Reason);
    }

    [Fact]
    public async Task Counting_online_retail_returns_all_541909_rows_across_committed_batches()
    {
        var result = await Run("SELECT count(*) AS n FROM online_retail");

        Assert.Equal(541_909L, result.Rows.Single()[0]);
        Assert.Equal(new QueryColumn("n", "BIGINT"), result.Columns.Single());
        Assert.False(result.Truncated);
    }

    [Fact]
    public async Task A_with_query_returns_json_friendly_values_and_sql_types()
    {
        var result = await Run("""
            WITH c AS (SELECT Country, sum(Quantity * UnitPrice)::DECIMAL(18,2) AS revenue, max(InvoiceDate) AS last
                       FROM online_retail GROUP BY Country)
            SELECT Country, revenue, last, [1, 2] AS l, {'a': 1} AS s FROM c ORDER BY revenue DESC LIMIT 3;
            """);

        Assert.Equal(["VARCHAR", "DECIMAL(18,2)", "TIMESTAMP", "INTEGER[]", "STRUCT(a INTEGER)"], result.Columns.Select(c => c.Type));
        var top = result.Rows[0];
        Assert.Equal("United Kingdom", top[0]);
        Assert.IsType<double>(top[1]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", (string)top[2]!);
        Assert.Equal([1, 2], ((List<object?>)top[3]!).Cast<int>());
        Assert.Equal(1, ((Dictionary<string, object?>)top[4]!)["a"]);
        Assert.Equal(3, result.RowCount);
    }

    [Fact]
    public async Task The_row_limit_truncates_and_says_so()
    {
        var result = await Run("SELECT InvoiceNo FROM online_retail", limit: 10);

        Assert.Equal(10, result.RowCount);
        Assert.True(result.Truncated);
    }

    [Theory]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')")]
    [InlineData("SELECT * FROM read_text('/etc/passwd')")]
    [InlineData("SELECT * FROM '/etc/passwd'")]
    [InlineData("SELECT * FROM glob('/*')")]
    [InlineData("ATTACH '/tmp/ep-escape.db' AS x")]
    [InlineData("INSTALL httpfs")]
    [InlineData("LOAD httpfs")]
    [InlineData("SET threads=1")]
    [InlineData("SET enable_external_access=true")]
    [InlineData("RESET lock_configuration")]
    [InlineData("PRAGMA threads=1")]
    [InlineData("PRAGMA database_list")]
    [InlineData("CREATE TABLE t AS SELECT 1")]
    [InlineData("CREATE VIEW v AS SELECT 1")]
    [InlineData("DROP VIEW online_retail")]
    [InlineData("SELECT 1; SELECT 2")]
    [InlineData("SELECT 1; DROP VIEW online_retail")]
    [InlineData("EXPORT DATABASE '/tmp/ep-escape-db'")]
    [InlineData("CALL pragma_version()")]
    [InlineData("SELECT * FROM secret")]
    [InlineData("SELECT getenv('HOME')")]
    [InlineData("SELECT * FROM query('COPY online_retail TO ''/tmp/ep-escape.csv''')")]
    [InlineData("SELECT * FROM read_parquet('http://127.0.0.1:1/x.parquet')")]
    [InlineData("SELECT * FROM duckdb_extensions()")]
    [InlineData("SELEC 1")]
    [InlineData("SELECT view_name, sql FROM duckdb_views()")]
    [InlineData("SELECT * FROM duckdb_tables()")]
    [InlineData("SELECT * FROM duckdb_settings()")]
    [InlineData("SELECT * FROM duckdb_views")]
    [InlineData("SELECT * FROM main.duckdb_views")]
    [InlineData("SELECT view_definition FROM information_schema.views")]
    [InlineData("SELECT * FROM pg_catalog.pg_views")]
    [InlineData("SELECT * FROM sqlite_master")]
    [InlineData("SELECT * FROM pragma_database_list()")]
    [InlineData("SELECT current_setting('allowed_paths')")]
    [InlineData("SELECT * FROM query_table('online_retail')")]
    [InlineData("SELECT * FROM parquet_metadata('x')")]
    [InlineData("SELECT (SELECT sql FROM duckdb_views() LIMIT 1) AS s")]
    [InlineData("WITH v AS (SELECT * FROM duckdb_views()) SELECT * FROM v")]
    [InlineData("SELECT * FROM online_retail WHERE StockCode IN (SELECT database_name FROM duckdb_databases())")]
    public async Task Escape_attempts_and_non_select_statements_are_rejected(string sql)
    {
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run(sql));
    }

    [Fact]
    public async Task Reading_parquet_of_another_sandbox_or_outside_the_tables_is_rejected()
    {
        var reason = await Assert.ThrowsAsync<QueryRejectedException>(() => Run($"SELECT * FROM read_parquet('{lake.OtherSandboxFile}')"));
        Assert.Contains("read_parquet() is not available", reason.Reason);
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run($"SELECT * FROM read_parquet('{Path.Combine(lake.Root, "lake", "*", "*", "*", "*.parquet")}')"));
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run($"SELECT * FROM read_parquet('{lake.Batch1}/../../../../s2/secret/b1/part-0.parquet')"));
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run($"SELECT * FROM read_parquet('{Path.GetDirectoryName(lake.Batch1)}/../../../s2/secret/b1/part-0.parquet')"));
        var unknown = await Assert.ThrowsAsync<QueryRejectedException>(() => Run("SELECT * FROM secret"));
        Assert.Contains("secret", unknown.Reason);
    }

    [Fact]
    public async Task Copy_to_a_file_is_rejected_and_writes_nothing()
    {
        var target = Path.Combine(lake.Root, "escape.csv");

        await Assert.ThrowsAsync<QueryRejectedException>(() => Run($"COPY online_retail TO '{target}'"));
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run($"COPY (SELECT 1) TO '{target}'"));
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run($"COPY (SELECT 1) TO '{lake.Batch1}' (FORMAT csv)"));

        Assert.False(File.Exists(target));
        Assert.False(File.Exists("/tmp/ep-escape.csv"));
        Assert.False(File.Exists("/tmp/ep-escape.db"));
        Assert.False(Directory.Exists("/tmp/ep-escape-db"));
    }

    [Fact]
    public async Task Settings_cannot_be_read_or_changed_and_tables_still_work_after_escape_attempts()
    {
        foreach (var sql in new[] { "SET memory_limit='100GB'", "DROP VIEW online_retail", "CREATE TABLE x(a INT)", $"COPY (SELECT 1) TO '{lake.Batch1}' (FORMAT csv)",
                     "SELECT current_setting('allowed_paths')", "SELECT value FROM duckdb_settings() WHERE name = 'allowed_paths'" })
            await Assert.ThrowsAsync<QueryRejectedException>(() => Run(sql));

        // Behind the parse check, DuckDB itself is locked down (defence in depth): seen from the trusted side.
        using (var db = LockedDownDatabase.Open(lake.Tables, new QueryServiceOptions()))
        using (var cmd = db.Connection.CreateCommand())
        {
            cmd.CommandText = "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')";
            using var r = cmd.ExecuteReader();
            Assert.True(r.Read());
            Assert.False(r.GetBoolean(0));
            Assert.True(r.GetBoolean(1));
        }
        var count = await Run("SELECT count(*) FROM online_retail");
        Assert.Equal(541_909L, count.Rows[0][0]);
    }

    [Fact]
    public async Task A_very_long_query_is_cancelled_at_its_time_limit()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<QueryTimeoutException>(() =>
            Run("SELECT count(*) FROM range(1000000000000) t WHERE hash(t.range) % 7 = 3", timeout: TimeSpan.FromSeconds(1)));

        Assert.Equal(TimeSpan.FromSeconds(1), error.Timeout);
        Assert.InRange(started.Elapsed.TotalSeconds, 0.5, 10);
        Assert.Equal(541_909L, (await Run("SELECT count(*) FROM online_retail")).Rows[0][0]);
    }

    [Fact]
    public async Task Bad_limits_are_rejected_with_a_reason()
    {
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run("SELECT 1", limit: 0));
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run("SELECT 1", limit: 1_000_000));
        await Assert.ThrowsAsync<QueryRejectedException>(() => Run("   "));
    }

    [Fact]
    public async Task Saving_a_query_as_a_dataset_writes_parquet_with_a_derived_schema()
    {
        using var dir = TestData.NewTempDir();
        var output = Path.Combine(dir.Path, "lake", "s1", "saved", "b1", "part-0.parquet");
        var request = new QueryRequest
        {
            Sql = "SELECT CustomerID AS \"person.crmId\", count(*) AS lines, sum(Quantity * UnitPrice) AS revenue, max(InvoiceDate) AS last, list(DISTINCT Country) AS countries, true AS known FROM online_retail WHERE CustomerID IS NOT NULL GROUP BY 1 -- comment",
            Tables = lake.Tables,
        };

        var result = await _service.ExportToParquetAsync(request, output, Ct);

        Assert.Equal(4372, result.RowCount);
        Assert.True(File.Exists(output));
        Assert.Equal(
            [("person.crmId", FieldType.Integer), ("lines", FieldType.Integer), ("revenue", FieldType.Number), ("last", FieldType.DateTime), ("countries", FieldType.Array), ("known", FieldType.Boolean)],
            result.Schema.Select(f => (f.Path, f.Type)));
        Assert.Equal(FieldType.String, result.Schema.Single(f => f.Path == "countries").ItemType);
        var reread = await _service.ExecuteAsync(new QueryRequest { Sql = "SELECT count(*), sum(lines) FROM saved", Tables = [new("saved", [output])] }, Ct);
        Assert.Equal(4372L, reread.Rows[0][0]);
        Assert.Equal(406_829.0, Convert.ToDouble(reread.Rows[0][1]));
    }

    [Fact]
    public async Task Saving_a_non_select_is_rejected_and_writes_nothing()
    {
        using var dir = TestData.NewTempDir();
        var output = Path.Combine(dir.Path, "out.parquet");
        foreach (var sql in new[] { $"COPY online_retail TO '{output}' (FORMAT parquet)", "SELECT 1'); COPY online_retail TO '/tmp/ep-x.csv'; SELECT ('", "SELECT {'a': 1} AS s", "SELECT * FROM read_csv('/etc/passwd')" })
        {
            await Assert.ThrowsAsync<QueryRejectedException>(() => _service.ExportToParquetAsync(new QueryRequest { Sql = sql, Tables = lake.Tables }, output, Ct));
            Assert.False(File.Exists(output));
        }
        Assert.False(File.Exists("/tmp/ep-x.csv"));
    }

    [Theory]
    [InlineData("VARCHAR", FieldType.String)]
    [InlineData("BIGINT", FieldType.Integer)]
    [InlineData("HUGEINT", FieldType.Integer)]
    [InlineData("DECIMAL(18,2)", FieldType.Number)]
    [InlineData("DOUBLE", FieldType.Number)]
    [InlineData("DATE", FieldType.Date)]
    [InlineData("TIMESTAMP WITH TIME ZONE", FieldType.DateTime)]
    [InlineData("BOOLEAN", FieldType.Boolean)]
    [InlineData("BIGINT[]", FieldType.Array)]
    [InlineData("MAP(VARCHAR, DOUBLE)", FieldType.Map)]
    [InlineData("UUID", FieldType.String)]
    public void Duckdb_types_map_to_schema_field_types(string duckDbType, FieldType expected)
    {
        Assert.Equal(expected, DuckDbTypes.ToFieldType(duckDbType).Type);
    }

    [Fact]
    public void Dataset_names_normalize_to_table_names()
    {
        Assert.Equal("online_retail_2011", TableSource.NormalizeName("Online Retail-2011"));
        Assert.Equal("_2024_orders", TableSource.NormalizeName("2024 orders"));
    }
}
