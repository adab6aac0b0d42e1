using System.Globalization;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Scoring;

/// <summary>What replacing the previous results removed.</summary>
internal sealed record ReplacedResults(int BatchesRemoved, int StaleFragments, long ProfilesRemerged);

/// <summary>
/// The output side of a scoring run, all through the ordinary ingestion machinery: the model's output system dataset
/// (<c>Scores: &lt;model&gt;</c>: profile-enabled, key field = primary identity, <c>insights</c> map of objects), a batch whose
/// raw file is the scores as records <c>{ key, insights: { &lt;model&gt;: { ..., modelVersion, scoredAt } } }</c>, ingested by the
/// <c>ingestion</c> job's own code (validate, lake, identity, profile stages with their timings), and the replacement of the
/// previous results once the new batch has reached the profiles.
/// </summary>
public sealed class ScoringOutput(CatalogDb db, LakeCatalog lake, SchemaService schemas, DatasetService datasets, IServiceScopeFactory scopes,
    IOptions<PortalOptions> options, TimeProvider clock, ProfileIngestor profiles, DatasetCounts counts)
{
    /// <summary>The model's output dataset, created (schema enabled for profile, dataset enabled for profile) when missing.</summary>
    internal async Task<LakeDataset> EnsureDatasetAsync(Model model, ResolvedTarget target, CancellationToken ct)
    {
        var name = ScoringService.OutputDatasetName(model.Name);
        // Find-or-create under the model's lock (in-process and, on PostgreSQL, across processes): two scoring runs of the model
        // on two workers would otherwise both find nothing and create two schemas and race on the dataset's name.
        await using var held = await CatalogLock.AcquireAsync(db, "scoring-output/" + model.Id, ct);
        var existing = await datasets.Query().FirstOrDefaultAsync(d => d.Name == name && d.System, ct);
        if (existing is null)
        {
            var fields = new List<SchemaField>
            {
                new() { Path = target.KeyPath, Type = FieldType.String, Required = true, Identity = new IdentityMapping(target.Namespace, Primary: true),
                        Description = "The scored profile's identity." },
                new() { Path = "insights", Type = FieldType.Map, ValueType = FieldType.Object, Description = "Model results keyed by model name." },
            };
            var description = $"Scores of model '{model.Name}' (written by the portal; each scoring run replaces the previous one).";
            Schema schema;
            try { schema = await schemas.CreateAsync(new SchemaDraft(name, SchemaClass.Profile, fields, description), "system", ct); }
            catch (CatalogException e) when (e.Kind == CatalogErrorKind.Conflict)
            {
                schema = await schemas.CreateAsync(new SchemaDraft($"{name} ({model.Id})", SchemaClass.Profile, fields, description), "system", ct);
            }
            await schemas.EnableProfileAsync(schema.Id, "system", ct);
            existing = await datasets.CreateSystemAsync(name, schema.Id, description, ct);
        }
        if (!existing.ProfileEnabled) await datasets.EnableProfileAsync(existing.Id, "system", asSystem: true, ct);
        var ds = await lake.FindAsync(existing.Id, ct) ?? throw new ScoringFailure($"The output dataset '{name}' disappeared.");
        var primary = ds.Schema.PrimaryIdentity;
        if (primary is null || ds.Schema.Find("insights") is not { Type: FieldType.Map })
            throw new ScoringFailure($"The output dataset '{name}' no longer has a primary identity and an insights map.");
        if (!string.Equals(primary.Identity!.Namespace, target.Namespace, StringComparison.OrdinalIgnoreCase))
            throw new ScoringFailure($"The output dataset '{name}' is keyed by {primary.Identity.Namespace} identities, but this target is keyed by {target.Namespace}; score a target keyed by {primary.Identity.Namespace}.");
        return ds;
    }

    /// <summary>
    /// Writes the records file of the run's batch (Parquet: the key column named as the output's primary identity field, and
    /// <c>insights</c> as JSON text) and creates the queued batch with its upload stage. Rows without a key are left out.
    /// </summary>
    internal async Task<Batch> CreateBatchAsync(LakeDataset dataset, Model model, ModelVersion version, ScoringRun run, string scoresPath,
        DateTimeOffset scoringStarted, DateTimeOffset scoredAt, CancellationToken ct)
    {
        var batch = new Batch
        {
            DatasetId = dataset.Id, Source = BatchSource.System, FileName = "scores.parquet", OptionsJson = Batch.ToJson(new BatchOptions()),
            CreatedBy = run.CreatedBy ?? "system", JobRunId = run.JobRunId, CreatedAt = clock.GetUtcNow(),
        };
        var rawDir = Path.Combine(options.Value.UploadDirectory, dataset.SandboxId, batch.Id);
        Directory.CreateDirectory(rawDir);
        batch.RawPath = Path.Combine(rawDir, batch.FileName);
        var keyPath = dataset.Schema.PrimaryIdentity!.Path;
        await Task.Run(() => WriteRecords(scoresPath, batch.RawPath, keyPath, model.Name, version.Id, scoredAt), ct);
        batch.FileBytes = new FileInfo(batch.RawPath).Length;
        db.Add(batch);
        db.Add(new BatchStage
        {
            BatchId = batch.Id, Name = BatchStages.Upload, Status = BatchStatus.Success, StartedAt = scoringStarted, FinishedAt = clock.GetUtcNow(),
            Detail = $"{run.RowsScored:N0} scores of '{model.Name}' version {version.Number} (scoring run {run.Id})",
        });
        db.Add(new AuditEntry { Actor = "system", Action = "batch.create", Target = batch.Id, Detail = $"{dataset.Name}: scoring run {run.Id}" });
        await db.SaveChangesAsync(ct);
        return batch;
    }

    /// <summary>The batch's records file from a scores file: key column named <paramref name="keyPath"/>, <c>insights</c> as JSON text.</summary>
    public static void WriteRecords(string scoresPath, string rawPath, string keyPath, string modelName, string versionId, DateTimeOffset scoredAt)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        var src = $"read_parquet({Lit(scoresPath)})";
        var cols = new List<string>();
        using (var d = c.CreateCommand())
        {
            d.CommandText = $"DESCRIBE SELECT * FROM {src}";
            using var r = d.ExecuteReader();
            while (r.Read()) cols.Add(r.GetString(0));
        }
        var pairs = cols.Where(n => n != "key").Select(n => $"{Lit(n)}, {Q(n)}").ToList();
        pairs.Add($"'modelVersion', {Lit(versionId)}");
        pairs.Add($"'scoredAt', {Lit(scoredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))}");
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"COPY (SELECT CAST(key AS VARCHAR) AS {Q(keyPath)}, CAST(json_object({Lit(modelName)}, json_object({string.Join(", ", pairs)})) AS VARCHAR) AS insights " +
                          $"FROM {src} WHERE key IS NOT NULL AND length(trim(CAST(key AS VARCHAR))) > 0) TO {Lit(rawPath)} (FORMAT parquet, COMPRESSION zstd)";
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// Ingests the batch with the <c>ingestion</c> job's code, in its own scope, on this thread of work (not a second queued job, so a
    /// scoring run never waits for a free worker). <paramref name="onProgress"/> gets the batch's state about once a second.
    /// Throws <see cref="ScoringFailure"/> when the batch does not end successful.
    /// </summary>
    internal async Task<Batch> IngestAsync(Batch batch, Func<Batch, IReadOnlyList<BatchStage>, Task> onProgress, CancellationToken ct)
    {
        var sandbox = db.Sandbox.Require();
        Task work;
        await using (var scope = scopes.CreateSandboxScope(sandbox))
        {
            var job = scope.ServiceProvider.GetRequiredKeyedService<IPortalJob>(IngestionService.JobKind);
            work = job.RunAsync(batch.Id, ct);
            while (!work.IsCompleted)
            {
                await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None));
                if (work.IsCompleted) break;
                try
                {
                    await using var fresh = scopes.CreateSandboxScope(sandbox);
                    var fdb = fresh.ServiceProvider.GetRequiredService<CatalogDb>();
                    var b = await fdb.Set<Batch>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == batch.Id, ct);
                    var st = await fdb.Set<BatchStage>().AsNoTracking().Where(s => s.BatchId == batch.Id).ToListAsync(ct);
                    if (b is not null) await onProgress(b, st);
                }
                catch (Exception e) when (e is not OperationCanceledException) { /* progress is best effort */ }
            }
            try { await work; }
            catch (JobFailedException e) { throw new ScoringFailure("The scores batch was not ingested: " + e.Message); }
        }
        var done = await db.Set<Batch>().AsNoTracking().FirstAsync(b => b.Id == batch.Id, ct);
        if (done.Status != BatchStatus.Success)
            throw new ScoringFailure($"The scores batch ended {done.Status}: {done.FailureReason ?? "no reason given"}.");
        return done;
    }

    /// <summary>
    /// After the new batch is committed and has reached the profiles: removes every other batch of the output dataset (lake
    /// folders, raw files, catalog rows) and the fragments they left for keys the new run did not score, and re-merges those
    /// profiles so their <c>insights.&lt;model&gt;</c> disappears. Idempotent: a crash half way is finished by the next run.
    /// </summary>
    internal async Task<ReplacedResults> ReplacePreviousAsync(LakeDataset dataset, string keepBatchId, CancellationToken ct)
    {
        var sandbox = dataset.SandboxId;
        var old = await db.Set<Batch>().AsNoTracking().Where(b => b.DatasetId == dataset.Id && b.Id != keepBatchId).Select(b => b.Id).ToListAsync(ct);

        // Stale fragments first (while the old folders still exist, a crash here leaves a consistent state).
        var staleProfiles = await db.Set<ProfileFragment>().IgnoreQueryFilters()
            .Where(f => f.SandboxId == sandbox && f.DatasetId == dataset.Id && f.BatchId != keepBatchId).Select(f => f.ProfileId).Distinct().ToListAsync(ct);
        var stale = await db.Set<ProfileFragment>().IgnoreQueryFilters()
            .Where(f => f.SandboxId == sandbox && f.DatasetId == dataset.Id && f.BatchId != keepBatchId).ExecuteDeleteAsync(ct);
        long remerged = 0;
        if (staleProfiles.Count > 0) remerged = await profiles.RematerializeProfilesAsync(sandbox, staleProfiles, ct);

        var keepFolder = Path.GetFullPath(lake.BatchFolder(sandbox, dataset.Id, keepBatchId));
        if (Directory.Exists(dataset.Folder))
            foreach (var dir in Directory.EnumerateDirectories(dataset.Folder))
                if (!string.Equals(Path.GetFullPath(dir), keepFolder, StringComparison.Ordinal)) LakeFolders.TryDelete(dir);
        foreach (var id in old) LakeFolders.TryDelete(Path.Combine(options.Value.UploadDirectory, sandbox, id));
        await db.Set<BatchStage>().Where(s => old.Contains(s.BatchId)).ExecuteDeleteAsync(ct);
        await db.Set<Batch>().Where(b => old.Contains(b.Id)).ExecuteDeleteAsync(ct);
        await counts.RecountAsync(dataset.Id, ct);
        return new ReplacedResults(old.Count, stale, remerged);
    }

    private static string Lit(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
    private static string Q(string s) => "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
