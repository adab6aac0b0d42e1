// Profiles benchmark: generated multi-identity people (email, CRM id, 1-3 cookies), a profile batch and an event
// batch (N events per person), applied to a fresh SQLite profile store; then lookup and streaming latency.
// Usage: dotnet run -c Release -- [profiles=100000] [eventsPerProfile=10] [workDir] [--reuse] [--lookups N] [--lookups-only]
//   [--pg "<admin connection string>"] [--no-copy] [--batch-only]
//   --pg: the profile store on PostgreSQL (a fresh database ep_bench_<profiles> on that server) instead of a SQLite file;
//   --no-copy: PostgreSQL bulk loads as multi-row INSERTs (the code before binary COPY), to compare;
//   --batch-only: stop after the batches (eventsPerProfile 0: the profile batch only).
//   --reuse: keep the catalog of an earlier run in workDir (skip generation and ingestion) and measure the lookups,
//            streaming and snapshot again (e.g. after a change of the lookup path, or on a quieter machine).
using System.Diagnostics;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;

var reuse = args.Contains("--reuse");
var pgAdmin = args.SkipWhile(a => a != "--pg").Skip(1).FirstOrDefault();
if (args.Contains("--no-copy")) Enrichment.Portal.Core.ProfileStore.ProfileSql.PostgresCopy = false;
var lookupCount = args.SkipWhile(a => a != "--lookups").Skip(1).Select(int.Parse).FirstOrDefault(2000);
var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || (args[i - 1] != "--lookups" && args[i - 1] != "--pg"))).ToArray();
var n = positional.Length > 0 ? int.Parse(positional[0]) : 100_000;
var perProfile = positional.Length > 1 ? int.Parse(positional[1]) : 10;
var work = positional.Length > 2 ? positional[2] : Path.Combine(Path.GetTempPath(), "profiles-bench-" + n);
var dbPath = Path.Combine(work, "catalog.db");
reuse &= File.Exists(dbPath) && pgAdmin is null;
var pgDb = "ep_bench_" + n;
var pgCs = pgAdmin is null ? null : new Npgsql.NpgsqlConnectionStringBuilder(pgAdmin) { Database = pgDb }.ConnectionString;
if (!reuse)
{
    if (Directory.Exists(work)) Directory.Delete(work, true);
    Directory.CreateDirectory(work);
}
const string sandbox = "bench";
Console.WriteLine($"{DateTime.UtcNow:u} profiles {n:N0} x {perProfile} events, {(reuse ? "reusing the catalog in " : "fresh catalog in ")}{work}; load average {File.ReadAllText("/proc/loadavg").Trim()}");

var profileSchema = new SchemaDefinition("crm", SchemaClass.Profile,
[
    new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
    new SchemaField { Path = "email", Type = FieldType.String, Identity = new IdentityMapping("Email") },
    new SchemaField { Path = "person.name", Type = FieldType.String },
    new SchemaField { Path = "person.city", Type = FieldType.String },
    new SchemaField { Path = "loyalty.tier", Type = FieldType.String },
    new SchemaField { Path = "loyalty.points", Type = FieldType.Integer },
]);
var eventSchema = new SchemaDefinition("web", SchemaClass.Event,
[
    new SchemaField { Path = "timestamp", Type = FieldType.DateTime, Required = true },
    new SchemaField { Path = "eventType", Type = FieldType.String, Required = true },
    new SchemaField { Path = "cookieId", Type = FieldType.String, Identity = new IdentityMapping("CookieID", true) },
    new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID") },
    new SchemaField { Path = "web.page", Type = FieldType.String },
    new SchemaField { Path = "commerce.value", Type = FieldType.Number },
]);

CatalogDb NewDb() => pgCs is null
    ? new SqliteCatalogDb(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite($"Data Source={dbPath};Default Timeout=60").Options, new SandboxContext { SandboxId = sandbox })
    : new PostgresCatalogDb(new DbContextOptionsBuilder<PostgresCatalogDb>().UseNpgsql(pgCs, o => o.MigrationsHistoryTable("__ef_migrations")).Options, new SandboxContext { SandboxId = sandbox });
var sw = Stopwatch.StartNew();
if (!reuse) await IngestAsync();

async Task IngestAsync()
{
var profilesFile = Path.Combine(work, "profiles.parquet");
var eventsFile = Path.Combine(work, "events.parquet");
using (var duck = new DuckDBConnection("DataSource=:memory:"))
{
    duck.Open();
    using var cmd = duck.CreateCommand();
    cmd.CommandText = $"""
        COPY (SELECT 'C' || i AS crmId, 'User.' || i || '@Example.com ' AS email, 'Person ' || i AS "person.name",
                     ['Paris','Lyon','Berlin','Austin','Osaka'][1 + i % 5] AS "person.city",
                     ['bronze','silver','gold'][1 + i % 3] AS "loyalty.tier", (i * 37) % 5000 AS "loyalty.points"
              FROM range({n}) t(i)) TO '{profilesFile}' (FORMAT parquet);
        COPY (SELECT TIMESTAMP '2024-01-01' + INTERVAL (k * 86400 + i % 86400) SECOND AS "timestamp",
                     ['web.pageView','commerce.productView','commerce.purchase'][1 + (i + k) % 3] AS eventType,
                     'ck-' || i || '-' || (k % (1 + i % 3)) AS cookieId,
                     CASE WHEN k < 1 + i % 3 OR k % 4 = 0 THEN 'C' || i END AS crmId,
                     '/p/' || ((i * 7 + k) % 500) AS "web.page", round(((i + k) % 200) * 1.5, 2) AS "commerce.value"
              FROM range({n}) a(i), range({perProfile}) b(k) ORDER BY k, i) TO '{eventsFile}' (FORMAT parquet);
        """;
    cmd.ExecuteNonQuery();
}
Console.WriteLine($"generated {n:N0} profiles, {(long)n * perProfile:N0} events in {sw.Elapsed.TotalSeconds:F1} s");

if (pgAdmin is not null)
{
    using (var admin = new Npgsql.NpgsqlConnection(pgAdmin))
    {
        admin.Open();
        using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {pgDb} WITH (FORCE); ", admin);
        drop.ExecuteNonQuery();
        using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {pgDb}", admin);
        create.ExecuteNonQuery();
    }
    using var init = NewDb();
    init.Database.Migrate(); // as the portal does on PostgreSQL
    Console.WriteLine($"PostgreSQL database {pgDb}, bulk loads through {(Enrichment.Portal.Core.ProfileStore.ProfileSql.PostgresCopy ? "binary COPY" : "multi-row INSERT")}");
}
else
{
    using var init = NewDb();
    init.Database.EnsureCreated();
    init.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;"); // as the portal runs its catalog
}

var at = DateTimeOffset.UtcNow;
ProfileIngestResult p, e;
using (var db = NewDb())
{
    sw.Restart();
    p = await new ProfileIngestor(db).ApplyBatchAsync(new ProfileBatch(sandbox, "ds-crm", "b1", profileSchema, [profilesFile], at));
    var tp = sw.Elapsed;
    sw.Restart();
    e = perProfile == 0 ? new ProfileIngestResult(0, 0, 0, 0, 0, 0, 0, 0, TimeSpan.Zero, TimeSpan.Zero)
        : await new ProfileIngestor(db).ApplyBatchAsync(new ProfileBatch(sandbox, "ds-web", "b2", eventSchema, [eventsFile], at));
    var te = sw.Elapsed;
    Console.WriteLine("profile stage parts: " + string.Join(", ", p.ProfileStageParts.Select(kv => $"{kv.Key} {kv.Value.TotalSeconds:F1} s")));
    Console.WriteLine($"profile batch: {p.Records:N0} records in {tp.TotalSeconds:F1} s ({p.Records / tp.TotalSeconds:N0}/s); identity {p.IdentityStage.TotalSeconds:F1} s, profile {p.ProfileStage.TotalSeconds:F1} s; created {p.ProfilesCreated:N0}");
    Console.WriteLine($"event batch: {e.Records:N0} records in {te.TotalSeconds:F1} s ({e.Records / te.TotalSeconds:N0}/s); identity {e.IdentityStage.TotalSeconds:F1} s, profile {e.ProfileStage.TotalSeconds:F1} s; events {e.Events:N0}, identities +{e.IdentitiesAdded:N0}, created {e.ProfilesCreated:N0}, merged {e.ProfilesMerged:N0}");
    Console.WriteLine($"batch accepted -> profiles queryable: {(tp + te).TotalSeconds:F1} s");
    var stats = await new ProfileService(db).StatsAsync();
    Console.WriteLine($"stats: {stats}");
}
Console.WriteLine($"load average after ingestion: {File.ReadAllText("/proc/loadavg").Trim()}");
}
if (args.Contains("--batch-only"))
{
    if (pgCs is not null)
    {
        using var db = NewDb();
        db.Database.OpenConnection();
        using var size = db.Database.GetDbConnection().CreateCommand();
        size.CommandText = "SELECT pg_database_size(current_database())";
        Console.WriteLine($"database size: {Convert.ToInt64(size.ExecuteScalar()) / 1048576.0:F0} MB");
    }
    return;
}

// Warm-up (JIT, EF query cache, connection pool), not counted.
var warm = new Random(7);
for (var i = 0; i < 100; i++)
{
    using var db = NewDb();
    _ = await new ProfileService(db).GetAsync("CRMID", "C" + warm.Next(n));
}

// Lookup latency by a random identity (email, CRM id or cookie), fresh context per request like the API.
var rnd = new Random(42);
var lookups = new List<double>();
var eventLookups = new List<double>();
for (var i = 0; i < lookupCount; i++)
{
    var who = rnd.Next(n);
    var (ns, id) = (i % 3) switch { 0 => ("Email", $"user.{who}@example.com"), 1 => ("CRMID", "C" + who), _ => ("CookieID", $"ck-{who}-0") };
    var t0 = Stopwatch.GetTimestamp();
    using var db = NewDb();
    var view = await new ProfileService(db).GetAsync(ns, id) ?? throw new InvalidOperationException($"{ns} {id} not found");
    lookups.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    t0 = Stopwatch.GetTimestamp();
    await new ProfileService(db).GetEventsAsync(view.ProfileId, limit: 20);
    eventLookups.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
}
Console.WriteLine($"profile lookup by identity: p50 {Pct(lookups, 50):F2} ms, p95 {Pct(lookups, 95):F2} ms, p99 {Pct(lookups, 99):F2} ms");
Console.WriteLine($"events of a profile (newest 20): p50 {Pct(eventLookups, 50):F2} ms, p95 {Pct(eventLookups, 95):F2} ms, p99 {Pct(eventLookups, 99):F2} ms");
Console.WriteLine($"load average after lookups: {File.ReadAllText("/proc/loadavg").Trim()}");
if (args.Contains("--lookups-only")) return;

// Streaming: one record at a time (a new cookie of a known person), record -> profile updated and queryable.
var stream = new List<double>();
for (var i = 0; i < 300; i++)
{
    var who = rnd.Next(n);
    var t0 = Stopwatch.GetTimestamp();
    using var db = NewDb();
    var rec = new Dictionary<string, object?> { ["timestamp"] = DateTime.UtcNow, ["eventType"] = "web.pageView", ["cookieId"] = $"stream-{Guid.NewGuid():N}", ["crmId"] = "C" + who, ["web.page"] = "/live" };
    await new ProfileIngestor(db).ApplyRecordsAsync(new ProfileRecordBatch(sandbox, "ds-web", eventSchema, [rec], DateTimeOffset.UtcNow));
    var view = await new ProfileService(db).GetAsync("CookieID", (string)rec["cookieId"]!);
    if (view is null) throw new InvalidOperationException("streamed record not queryable");
    stream.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
}
Console.WriteLine($"streaming record -> profile p50 {Pct(stream, 50):F2} ms, p95 {Pct(stream, 95):F2} ms");

using (var db = NewDb())
{
    sw.Restart();
    var policy = await new MergePolicyService(db).GetDefaultAsync(sandbox);
    var snapFolder = Path.Combine(work, "snapshot");
    if (Directory.Exists(snapFolder)) Directory.Delete(snapFolder, true);
    var snap = await new ProfileSnapshotWriter(db).WriteAsync(sandbox, policy, snapFolder, [profileSchema]);
    Console.WriteLine($"snapshot: {snap.Rows:N0} rows, {snap.Files.Count} files, {snap.Columns.Count} columns in {sw.Elapsed.TotalSeconds:F1} s");
}
Console.WriteLine($"catalog size: {new FileInfo(dbPath).Length / 1048576.0:F0} MB; load average {File.ReadAllText("/proc/loadavg").Trim()}");

static double Pct(List<double> xs, int p)
{
    var s = xs.Order().ToList();
    return s[Math.Min(s.Count - 1, (int)Math.Ceiling(p / 100.0 * s.Count) - 1)];
}
