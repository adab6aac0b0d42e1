using System.Diagnostics;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Schemas;

// Usage: dotnet run -c Release --project bench/Ingestion.Bench -- retail|duckdb|big [sizeMB]
// Each mode is meant to run in its own process so that peak RSS (VmHWM) belongs to that mode alone.
var mode = args.Length > 0 ? args[0] : "retail";
var repo = FindRepo();
var retail = Path.Combine(repo, "tests", "data", "online_retail", "online_retail.csv.gz");
var work = Path.Combine(Path.GetTempPath(), "ingestion-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(work);
try
{
    switch (mode)
    {
        case "duckdb":
        {
            var sw = Stopwatch.StartNew();
            using var c = new DuckDBConnection("Data Source=:memory:");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"COPY (SELECT * FROM read_csv('{retail}')) TO '{Path.Combine(work, "retail.parquet")}' (FORMAT parquet)";
            cmd.ExecuteNonQuery();
            Report("duckdb COPY read_csv -> parquet", 541_909, sw.Elapsed);
            break;
        }
        case "retail":
        {
            var res = Ingest(retail, "online_retail.csv.gz", out var elapsed);
            Report($"BatchIngestor (read {res.RecordsRead:N0}, written {res.RecordsWritten:N0}, anonymous {res.RecordsWithoutIdentity:N0})", res.RecordsRead, elapsed);
            break;
        }
        case "big":
        {
            var mb = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
            var file = Path.Combine(work, "big.csv");
            var gen = Stopwatch.StartNew();
            Generate(file, mb * 1024L * 1024L);
            Console.WriteLine($"generated {new FileInfo(file).Length / 1048576.0:N0} MB in {gen.Elapsed.TotalSeconds:N1} s");
            var res = Ingest(file, "big.csv", out var elapsed);
            Report($"BatchIngestor {mb} MB CSV (read {res.RecordsRead:N0}, written {res.RecordsWritten:N0}, files {res.Files.Count}, failed={res.Failed} {res.FailureReason})", res.RecordsRead, elapsed);
            break;
        }
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

IngestResult Ingest(string file, string name, out TimeSpan elapsed)
{
    var schema = new SchemaDefinition("retail", SchemaClass.Event,
    [
        F("InvoiceNo", FieldType.String, true), F("StockCode", FieldType.String), F("Description", FieldType.String),
        F("Quantity", FieldType.Integer), F("timestamp", FieldType.DateTime), F("UnitPrice", FieldType.Number),
        new SchemaField { Path = "CustomerID", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
        F("Country", FieldType.String), F("eventType", FieldType.String),
    ]);
    var options = new IngestOptions
    {
        Mapping = new Dictionary<string, string>
        {
            ["InvoiceNo"] = "InvoiceNo", ["StockCode"] = "StockCode", ["Description"] = "Description", ["Quantity"] = "Quantity",
            ["InvoiceDate"] = "timestamp", ["UnitPrice"] = "UnitPrice", ["CustomerID"] = "CustomerID", ["Country"] = "Country",
        },
        Constants = new Dictionary<string, string> { ["eventType"] = "commerce.purchase" },
    };
    if (Environment.GetEnvironmentVariable("PART_MB") is { } pm) options = options with { PartFileBytes = long.Parse(pm, CultureInfo.InvariantCulture) << 20 };
    if (Environment.GetEnvironmentVariable("DUCK_MEM") is { } dm) options = options with { DuckDbMemoryLimit = dm };
    var req = new IngestRequest(file, name, schema, BuiltInNamespaces.All.ToDictionary(n => n.Code), Path.Combine(work, "lake", "b1"), "b1") { Options = options };
    var sw = Stopwatch.StartNew();
    var res = new BatchIngestor().Ingest(req);
    elapsed = sw.Elapsed;
    foreach (var s in res.Stages) Console.WriteLine($"  stage {s.Name}: {s.Duration.TotalSeconds:N2} s");
    return res;
}

static SchemaField F(string p, FieldType t, bool req = false) => new() { Path = p, Type = t, Required = req };

static void Report(string what, long records, TimeSpan t) =>
    Console.WriteLine($"{what}: {t.TotalSeconds:N2} s, {records / t.TotalSeconds:N0} records/s, CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:N2} s, peak RSS {PeakMb():N0} MB");

static double PeakMb()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
}

static void Generate(string path, long bytes)
{
    var rnd = new Random(42);
    string[] countries = ["United Kingdom", "France", "Germany", "EIRE", "Spain", "Netherlands"];
    using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
    w.Write("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
    var start = new DateTime(2010, 12, 1, 8, 0, 0);
    var sb = new StringBuilder();
    for (long i = 0; w.BaseStream.Position < bytes; i++)
    {
        sb.Clear();
        sb.Append(536365 + i / 20).Append(',').Append(10000 + rnd.Next(9000)).Append(",\"WHITE HANGING HEART, T-LIGHT ").Append(rnd.Next(500))
          .Append("\",").Append(rnd.Next(-5, 50)).Append(',').Append(start.AddMinutes(i / 20).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))
          .Append(',').Append((rnd.Next(1, 5000) / 100.0).ToString(CultureInfo.InvariantCulture)).Append(',')
          .Append(rnd.Next(4) == 0 ? "" : (12346 + rnd.Next(5000)).ToString(CultureInfo.InvariantCulture)).Append(',').Append(countries[rnd.Next(countries.Length)]).Append('\n');
        w.Write(sb);
    }
}

static string FindRepo()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "Enrichment.Portal.sln"))) d = d.Parent;
    return d?.FullName ?? throw new InvalidOperationException("repo root not found");
}
