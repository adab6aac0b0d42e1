// Scoring benchmark: N generated profiles with 20 features, a quick binary model trained on a sample, then the stages of a
// scoring run as the scoring job runs them (batch transform to Parquet, the scores batch through validate + lake, the
// identity and profile stages into a SQLite profile store that already holds the N profiles), and one-profile predict latency.
// Usage: dotnet run -c Release --project bench/Scoring.Bench -- [profiles=1000000] [runs=2] [workDir]
using System.Diagnostics;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Scoring;
using Microsoft.EntityFrameworkCore;

var n = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var runs = args.Length > 1 ? int.Parse(args[1]) : 2;
var work = args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), "scoring-bench-" + n);
// "reuse" (4th argument): keep the work folder of an earlier run with the same size and start from its saved setup
// (the 1M source profiles already in the store), so a scoring change can be measured without the ~2 min setup.
var reuse = args.Length > 3 && args[3] == "reuse";
if (Directory.Exists(work) && !reuse) Directory.Delete(work, true);
Directory.CreateDirectory(work);
const string sandbox = "bench";
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");

// ---- data: crmId + 20 features (12 numeric, 8 categorical) + a label that depends on some of them.
var profilesFile = Path.Combine(work, "profiles.parquet");
var sampleFile = Path.Combine(work, "sample.parquet");
var sw = Stopwatch.StartNew();
using (var duck = new DuckDBConnection("DataSource=:memory:"))
{
    duck.Open();
    using var cmd = duck.CreateCommand();
    cmd.CommandText = $"""
        CREATE MACRO h(i, k) AS CAST(hash(i, k) >> 1 AS BIGINT);
        COPY (SELECT 'C' || i AS crmId,
              18 + h(i, 1) % 70 AS age, (h(i, 2) % 20000)::DOUBLE - 2000 AS balance, h(i, 3) % 60 AS tenure,
              (h(i, 4) % 10000) / 100.0 AS monthly, h(i, 5) % 30 AS visits, h(i, 6) % 12 AS purchases,
              (h(i, 7) % 1000) / 10.0 AS spend, h(i, 8) % 400 AS recency, h(i, 9) % 5 AS complaints,
              h(i, 10) % 100 AS score1, (h(i, 11) % 1000) / 1000.0 AS ratio, h(i, 12) % 3 AS children,
              ['basic','plus','premium'][1 + h(i, 13) % 3] AS plan, ['north','south','east','west','center'][1 + h(i, 14) % 5] AS region,
              ['web','app','store','phone'][1 + h(i, 15) % 4] AS channel, ['a','b','c','d','e','f'][1 + h(i, 16) % 6] AS segment,
              ['yes','no'][1 + h(i, 17) % 2] AS newsletter, ['m','f','x'][1 + h(i, 18) % 3] AS gender,
              ['card','transfer','cash'][1 + h(i, 19) % 3] AS payment, ['en','fr','de','es'][1 + h(i, 20) % 4] AS language,
              CASE WHEN (h(i, 3) % 60) < 12 AND (h(i, 9) % 5) > 1 OR h(i, 21) % 10 = 0 THEN 'yes' ELSE 'no' END AS churned
              FROM range({n}) t(i)) TO '{profilesFile}' (FORMAT parquet);
        COPY (SELECT * FROM read_parquet('{profilesFile}') USING SAMPLE 50000 ROWS (reservoir, 42)) TO '{sampleFile}' (FORMAT parquet);
        """;
    cmd.ExecuteNonQuery();
}
Console.WriteLine($"generated {n:N0} profiles x 20 features in {sw.Elapsed.TotalSeconds:F1} s");

var fields = new List<SchemaField> { new() { Path = "crmId", Type = FieldType.String, Required = true, Identity = new IdentityMapping("CRMID", true) } };
foreach (var f in new[] { "age", "tenure", "visits", "purchases", "recency", "complaints", "score1", "children" }) fields.Add(new SchemaField { Path = f, Type = FieldType.Integer });
foreach (var f in new[] { "balance", "monthly", "spend", "ratio" }) fields.Add(new SchemaField { Path = f, Type = FieldType.Number });
foreach (var f in new[] { "plan", "region", "channel", "segment", "newsletter", "gender", "payment", "language", "churned" }) fields.Add(new SchemaField { Path = f, Type = FieldType.String });
var profileSchema = new SchemaDefinition("crm", SchemaClass.Profile, fields);

// ---- train on a 50k sample.
sw.Restart();
var trained = await new ModelTrainer().TrainAsync(new TrainingRequest
{
    Recipe = Recipe.Churn, SourceGlobs = [sampleFile], SourceFields = fields, Label = new LabelSpec("churned", "yes"), Seed = 42,
});
Console.WriteLine($"trained {trained.Trainer} on {trained.TrainRows:N0}+{trained.TestRows:N0} rows in {sw.Elapsed.TotalSeconds:F1} s, auc {trained.Metrics["auc"]:F3}");
var artifactPath = Path.Combine(work, "model.zip");
File.WriteAllBytes(artifactPath, trained.Artifact);

// ---- catalog with the N profiles already in the store (the usual case: scoring enriches existing profiles).
var dbPath = Path.Combine(work, "catalog.db");
SqliteCatalogDb NewDb() => new(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite($"Data Source={dbPath};Default Timeout=60").Options, new SandboxContext { SandboxId = sandbox });
var setupCopy = Path.Combine(work, "setup-catalog.db");
// Dataset ids as the portal makes them (26 characters, Enrichment.Portal.Core.Ids): they are stored in every fragment and in
// the provenance of every merged profile, so their length matters.
const string crmDataset = "01kaq5tdbm0c7dyx4zq8w3f1rn", scoresDataset = "01kaq5tdbn6s2m9kx7h4v0e8pa";
var lakeRoot = Path.Combine(work, "lake");
var namespaces = BuiltInNamespaces.All.ToDictionary(x => x.Code, x => x, StringComparer.OrdinalIgnoreCase);
if (Directory.Exists(Path.Combine(lakeRoot, scoresDataset))) Directory.Delete(Path.Combine(lakeRoot, scoresDataset), true);
sw.Restart();
if (reuse && File.Exists(setupCopy))
{
    foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(dbPath + suffix);
    File.Copy(setupCopy, dbPath);
    Console.WriteLine($"setup: reused the saved store with {n:N0} source profiles ({sw.Elapsed.TotalSeconds:F1} s to copy)");
}
else
{
    foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(dbPath + suffix);
    using (var init = NewDb())
    {
        init.Database.EnsureCreated();
        init.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;"); // as the portal runs its catalog
    }
    string crmLake = Path.Combine(lakeRoot, crmDataset, "b1");
    if (Directory.Exists(crmLake)) Directory.Delete(crmLake, true);
    var crmIngest = new BatchIngestor().Ingest(new IngestRequest(profilesFile, "profiles.parquet", profileSchema, namespaces, crmLake, "b1"));
    using (var db = NewDb())
    {
        var pre = await new ProfileIngestor(db).ApplyBatchAsync(new ProfileBatch(sandbox, crmDataset, "b1", profileSchema, crmIngest.Files.Select(f => Path.Combine(crmLake, f.Name)).ToList(), DateTimeOffset.UtcNow));
        Console.WriteLine($"setup: {pre.Records:N0} source profiles in the store in {sw.Elapsed.TotalSeconds:F1} s (not part of scoring)");
        db.Database.ExecuteSqlRaw("PRAGMA wal_checkpoint(TRUNCATE);");
    }
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    File.Copy(dbPath, setupCopy, true);
}

// ---- a scoring run, stage by stage, twice (the second replaces the first).
var scorer = new ModelScorer();
var outputSchema = new SchemaDefinition("Scores: churn", SchemaClass.Profile,
[
    new SchemaField { Path = "crmId", Type = FieldType.String, Required = true, Identity = new IdentityMapping("CRMID", true) },
    new SchemaField { Path = "insights", Type = FieldType.Map, ValueType = FieldType.Object },
]);
for (var attempt = 1; attempt <= runs; attempt++)
{
    var load = File.ReadAllText("/proc/loadavg").Trim();
    var total = Stopwatch.StartNew();
    var scores = Path.Combine(work, $"scores-{attempt}.parquet");
    sw.Restart();
    var outcome = await scorer.ScoreAsync(new ScoringRequest { Artifact = trained.Artifact, InputGlobs = [profilesFile], OutputPath = scores, DistributionEdges = trained.TrainingDistribution?.Edges, KeyField = "crmId" });
    var tScore = sw.Elapsed;
    sw.Restart();
    var raw = Path.Combine(work, $"records-{attempt}.parquet");
    ScoringOutput.WriteRecords(scores, raw, "crmId", "churn", "v1", DateTimeOffset.UtcNow);
    var tWrite = sw.Elapsed;
    sw.Restart();
    var batchId = "scores-" + attempt;
    var lakeFolder = Path.Combine(lakeRoot, scoresDataset, batchId);
    var ingest = new BatchIngestor().Ingest(new IngestRequest(raw, "scores.parquet", outputSchema, namespaces, lakeFolder, batchId));
    var tLake = sw.Elapsed;
    sw.Restart();
    ProfileIngestResult applied;
    using (var db = NewDb())
        applied = await new ProfileIngestor(db).ApplyBatchAsync(new ProfileBatch(sandbox, scoresDataset, batchId, outputSchema, ingest.Files.Select(f => Path.Combine(lakeFolder, f.Name)).ToList(), DateTimeOffset.UtcNow));
    var tProfile = sw.Elapsed;
    total.Stop();
    Console.WriteLine($"run {attempt} (load {load}): {outcome.RowsScored:N0} rows");
    Console.WriteLine($"  batch transform -> Parquet: {tScore.TotalSeconds:F2} s ({outcome.RowsScored / tScore.TotalSeconds:N0} rows/s)");
    Console.WriteLine($"  records file (insights JSON): {tWrite.TotalSeconds:F2} s");
    Console.WriteLine($"  validate + lake: {tLake.TotalSeconds:F2} s ({ingest.RecordsWritten:N0} written, {ingest.RecordsFailed:N0} rejected)");
    Console.WriteLine($"  identity + profile stages: {tProfile.TotalSeconds:F2} s (identity {applied.IdentityStage.TotalSeconds:F1} s, profile {applied.ProfileStage.TotalSeconds:F1} s; {applied.ProfilesUpdated:N0} updated, {applied.ProfilesCreated:N0} created)");
    Console.WriteLine("    profile stage parts: " + string.Join(", ", applied.ProfileStageParts.Select(kv => $"{kv.Key} {kv.Value.TotalSeconds:F1} s")));
    Console.WriteLine($"    merged profiles: {applied.ProfilesPatched:N0} patched with the scores only, {applied.ProfilesMergedInFull:N0} merged in full");
    Console.WriteLine($"  whole run until profiles show the insights: {total.Elapsed.TotalSeconds:F1} s ({outcome.RowsScored / total.Elapsed.TotalSeconds:N0} profiles/s)");
}

// ---- one-profile predict through ScoringService.PredictAsync (fresh context per call, like the API).
using (var db = NewDb())
{
    var model = new Model { Id = "m-churn", SandboxId = sandbox, Name = "churn", Recipe = "churn", ActiveVersionId = "v-1" };
    db.Add(model);
    db.Add(new ModelVersion { Id = "v-1", SandboxId = sandbox, ModelId = model.Id, Number = 1, RunId = "r", ArtifactPath = artifactPath, Recipe = "churn" });
    await db.SaveChangesAsync();
}
var cache = new ModelArtifactCache();
var rnd = new Random(42);
var latencies = new List<double>();
double check = 0;
for (var i = 0; i < 2200; i++)
{
    var id = "C" + rnd.Next(n);
    var t0 = Stopwatch.GetTimestamp();
    using var db = NewDb();
    var service = new ScoringService(db, null!, null!, new ProfileService(db), scorer, cache, TimeProvider.System);
    var p = await service.PredictAsync("m-churn", "CRMID", id);
    if (i >= 200) latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    check += p.Score ?? 0;
}
Console.WriteLine($"one-profile predict ({latencies.Count:N0} calls after 200 warm-up): p50 {Pct(latencies, 50):F2} ms, p95 {Pct(latencies, 95):F2} ms, p99 {Pct(latencies, 99):F2} ms (mean score {check / 2200:F3})");
Console.WriteLine($"catalog size: {new FileInfo(dbPath).Length / 1048576.0:F0} MB; load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");

static double Pct(List<double> xs, int p)
{
    var s = xs.Order().ToList();
    return s[Math.Min(s.Count - 1, (int)Math.Ceiling(p / 100.0 * s.Count) - 1)];
}
