using System.Diagnostics;
using System.IO.Compression;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Query;

// Exploration benchmark: statistics of every column of Online Retail (541,909 rows) and of a generated
// 10M-row event dataset, wall time and peak RSS (VmHWM, reset between runs through /proc/self/clear_refs).
// Usage: dotnet run -c Release --project bench/Exploration.Bench [-- --rows 10000000 --keep]
var rows = args.SkipWhile(a => a != "--rows").Skip(1).Select(long.Parse).FirstOrDefault(10_000_000);
var repo = FindRepo();
var work = Path.Combine(Path.GetTempPath(), "ep-bench-exploration-" + Environment.ProcessId);
Directory.CreateDirectory(work);
try
{
    Console.WriteLine($"cores {Environment.ProcessorCount}, DuckDB threads 2, memory_limit 2GB, {DateTime.UtcNow:u}");

    // Online Retail: gzip CSV -> Parquet (as ingestion would), then statistics.
    var csv = Path.Combine(work, "online_retail.csv");
    using (var gz = new GZipStream(File.OpenRead(Path.Combine(repo, "tests", "data", "online_retail", "online_retail.csv.gz")), CompressionMode.Decompress))
    using (var output = File.Create(csv)) gz.CopyTo(output);
    var retail = Path.Combine(work, "retail", "b1", "part-0.parquet");
    var sw = Stopwatch.StartNew();
    Sql($"COPY (SELECT * FROM read_csv('{csv}', header = true)) TO '{retail}' (FORMAT parquet)", Path.GetDirectoryName(retail)!);
    Console.WriteLine($"online retail csv -> parquet: {sw.Elapsed.TotalSeconds:0.00} s");

    // Generated events: 10M rows with DuckDB range().
    var events = Path.Combine(work, "events", "b1", "part-0.parquet");
    sw.Restart();
    Sql($"""
        COPY (
          SELECT 'evt-' || range AS eventId,
                 TIMESTAMP '2024-01-01' + to_seconds((range * 7919) % 31536000) AS timestamp,
                 (['pageView', 'productView', 'addToCart', 'purchase', 'search'])[1 + (hash(range) % 5)::INT] AS eventType,
                 (hash(range * 31) % 1000000)::BIGINT AS customerId,
                 round(exp(((hash(range * 17) % 10000) / 10000.0) * 6), 2) AS amount,
                 1 + (hash(range * 13) % 10)::INT AS quantity,
                 'C' || lpad(((hash(range * 7) % 38))::VARCHAR, 2, '0') AS country,
                 (['web', 'ios', 'android'])[1 + (hash(range * 3) % 3)::INT] AS channel,
                 CASE WHEN hash(range * 11) % 10 = 0 THEN NULL ELSE 'sku-' || (hash(range * 5) % 4070) END AS sku,
                 (hash(range * 19) % 100) < 8 AS converted
          FROM range({rows})
        ) TO '{events}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
        """, Path.GetDirectoryName(events)!);
    Console.WriteLine($"generate {rows:N0} events -> parquet: {sw.Elapsed.TotalSeconds:0.00} s, {new FileInfo(events).Length / 1048576.0:0} MB");

    var stats = new DatasetStatistics();
    var results = new List<string>();
    async Task Measure(string name, string file, string? target, StatsOptions options)
    {
        GC.Collect();
        ResetPeak();
        var before = Rss("VmRSS");
        var watch = Stopwatch.StartNew();
        var result = await stats.ComputeAsync([file], null, target, options);
        watch.Stop();
        var line = $"| {name} | {result.Rows:N0} | {result.Columns.Count} | {target ?? "-"} | {(result.Exact ? "exact" : "approx")} | {watch.Elapsed.TotalSeconds:0.00} | {Rss("VmHWM") / 1024.0:0} | {before / 1024.0:0} |";
        Console.WriteLine(line);
        results.Add(line);
        foreach (var c in result.Columns)
            Console.WriteLine($"    {c.Name,-12} {c.Type,-9} distinct {c.Distinct,10:N0} completeness {c.Completeness:0.000} signal {c.TargetSignal?.Value:0.000} [{string.Join(",", c.Warnings)}]");
    }

    Console.WriteLine("| dataset | rows | columns | target | distinct/quantiles | wall s | peak RSS MB | RSS before MB |");
    Console.WriteLine("|---|---:|---:|---|---|---:|---:|---:|");
    await Measure("Online Retail", retail, null, new StatsOptions { Exact = true });
    await Measure("Online Retail", retail, null, new StatsOptions { Exact = false });
    await Measure("Online Retail", retail, "UnitPrice", new StatsOptions { Exact = true });
    await Measure("events (generated)", events, null, new StatsOptions { Exact = true });
    await Measure("events (generated)", events, null, new StatsOptions { Exact = false });
    await Measure("events (generated)", events, "converted", new StatsOptions { Exact = false });

    // Query service on the generated events.
    var query = new QueryService(new QueryServiceOptions { MemoryLimit = "1GB" });
    ResetPeak();
    sw.Restart();
    var q = await query.ExecuteAsync(new QueryRequest
    {
        Sql = "SELECT eventType, count(*) AS n, sum(amount) AS revenue, count(DISTINCT customerId) AS customers FROM events GROUP BY 1 ORDER BY n DESC",
        Tables = [new TableSource("events", [events])],
        Timeout = TimeSpan.FromMinutes(10),
    });
    Console.WriteLine($"query group-by over {rows:N0} events: {sw.Elapsed.TotalSeconds:0.00} s ({q.ElapsedMs} ms in DuckDB), peak RSS {Rss("VmHWM") / 1024.0:0} MB");
}
finally
{
    if (!args.Contains("--keep")) Directory.Delete(work, recursive: true);
}

static void Sql(string sql, string createDir)
{
    Directory.CreateDirectory(createDir);
    using var connection = new DuckDBConnection("DataSource=:memory:");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = "SET threads=2; SET memory_limit='2GB'; " + sql;
    command.ExecuteNonQuery();
}

static long Rss(string key)
{
    foreach (var line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith(key + ":", StringComparison.Ordinal))
            return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0]);
    return -1;
}

static void ResetPeak()
{
    try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
}

static string FindRepo()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Enrichment.Portal.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("Enrichment.Portal.sln not found");
}
