// Data access benchmark (#16): N generated snapshot rows x 20 features (plus an id) in Parquet, streamed as JSON lines
// and as CSV by LakeExport (what GET /api/v1/datasets/{id}/data?format=jsonl|csv sends), into a counting sink; and the
// format=parquet rewrite. Reports rows/s, bytes and peak RSS (the point: memory stays flat whatever N is).
// Usage: dotnet run -c Release --project bench/DataAccess.Bench -- [rows=1000000] [runs=2]
using System.Diagnostics;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Lake;

var n = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var runs = args.Length > 1 ? int.Parse(args[1]) : 2;
var work = Path.Combine(Path.GetTempPath(), "data-access-bench-" + n);
Directory.CreateDirectory(work);
var file = Path.Combine(work, "part-00000.parquet");
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
if (!File.Exists(file))
{
    using var duck = new DuckDBConnection("DataSource=:memory:");
    duck.Open();
    using var cmd = duck.CreateCommand();
    cmd.CommandText = $"""
        CREATE MACRO h(i, k) AS CAST(hash(i, k) >> 1 AS BIGINT);
        COPY (SELECT 'C' || i AS "identity.CRMID",
              18 + h(i, 1) % 70 AS age, (h(i, 2) % 20000)::DOUBLE - 2000 AS balance, h(i, 3) % 60 AS tenure,
              (h(i, 4) % 10000) / 100.0 AS monthly, h(i, 5) % 30 AS visits, h(i, 6) % 12 AS purchases,
              (h(i, 7) % 1000) / 10.0 AS spend, h(i, 8) % 400 AS recency, h(i, 9) % 5 AS complaints,
              h(i, 10) % 100 AS score1, (h(i, 11) % 1000) / 1000.0 AS ratio, h(i, 12) % 3 AS children,
              ['basic','plus','premium'][1 + h(i, 13) % 3] AS plan, ['north','south','east','west','center'][1 + h(i, 14) % 5] AS region,
              ['web','app','store','phone'][1 + h(i, 15) % 4] AS channel, ['a','b','c','d','e','f'][1 + h(i, 16) % 6] AS segment,
              ['yes','no'][1 + h(i, 17) % 2] AS newsletter, ['m','f','x'][1 + h(i, 18) % 3] AS gender,
              ['card','transfer','cash'][1 + h(i, 19) % 3] AS payment, ['en','fr','de','es'][1 + h(i, 20) % 4] AS language
              FROM range({n}) t(i)) TO '{file}' (FORMAT parquet);
        """;
    cmd.ExecuteNonQuery();
}
Console.WriteLine($"{n:N0} rows x 21 columns, parquet {new FileInfo(file).Length / 1e6:F1} MB");
string[] files = [file];
for (var run = 1; run <= runs; run++)
{
    foreach (var format in new[] { LakeExportFormat.Jsonl, LakeExportFormat.Csv })
    {
        GC.Collect();
        var before = Process.GetCurrentProcess().WorkingSet64;
        using var sink = new CountingStream();
        var sw = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var rows = await LakeExport.WriteTextAsync(files, format, null, null, null, sink);
        sw.Stop();
        var p = Process.GetCurrentProcess();
        p.Refresh();
        Console.WriteLine($"run {run} {format,-5}: {rows:N0} rows, {sink.Bytes / 1e6:F0} MB in {sw.Elapsed.TotalSeconds:F2} s = {rows / sw.Elapsed.TotalSeconds:N0} rows/s, " +
                          $"CPU {(p.TotalProcessorTime - cpu0).TotalSeconds:F1} s, RSS before {before / 1e6:F0} MB, peak RSS {p.PeakWorkingSet64 / 1e6:F0} MB");
    }
    var outFile = Path.Combine(work, "out.parquet");
    var swp = Stopwatch.StartNew();
    LakeExport.WriteParquet(files, null, null, null, outFile, work);
    Console.WriteLine($"run {run} parquet: {swp.Elapsed.TotalSeconds:F2} s = {n / swp.Elapsed.TotalSeconds:N0} rows/s, {new FileInfo(outFile).Length / 1e6:F1} MB");
    File.Delete(outFile);
}
Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");

/// <summary>A write-only sink that counts bytes (the HTTP response body stands here).</summary>
sealed class CountingStream : Stream
{
    public long Bytes;
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Bytes;
    public override long Position { get => Bytes; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Bytes += count;
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) { Bytes += buffer.Length; return ValueTask.CompletedTask; }
}
