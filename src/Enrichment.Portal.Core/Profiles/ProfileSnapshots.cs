using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>One kept snapshot (a batch of a snapshot dataset); <see cref="Newest"/> is the one its table shows.</summary>
public sealed record KeptSnapshot(string BatchId, DateTimeOffset? TakenAt, bool Newest);

/// <summary>What one snapshot run wrote.</summary>
public sealed record ProfileSnapshotRun(string DatasetId, string DatasetName, string BatchId, long Rows, int BatchesKept);

/// <summary>
/// Profile snapshots: every merged profile of the sandbox (by a merge policy) written as a new committed batch of the
/// system dataset <c>Profile-Snapshot-Export-&lt;policy name&gt;</c> (schema and dataset created once, extended when new
/// columns appear); only the newest <see cref="Keep"/> snapshot batches are kept.
/// </summary>
public sealed class ProfileSnapshots(CatalogDb db, LakeCatalog lake, MergePolicyService policies, ProfileSnapshotWriter writer,
    SchemaService schemas, DatasetService datasets, JobScheduler jobs, TimeProvider clock)
{
    public const int Keep = 3;
    public const string NamePrefix = LakeCatalog.SnapshotPrefix;
    private const string DefaultTarget = "default";

    public static string DatasetName(MergePolicy policy) => NamePrefix + policy.Name;

    /// <summary>Starts a snapshot job; null when the merge policy is unknown.</summary>
    public async Task<JobRun?> RequestAsync(string? mergePolicyId, string? actor, CancellationToken ct = default)
    {
        var sandbox = db.Sandbox.Require();
        if (!string.IsNullOrEmpty(mergePolicyId) && await policies.FindAsync(sandbox, mergePolicyId, ct) is null) return null;
        return await jobs.EnqueueAsync(ProfileSnapshotJob.Kind, string.IsNullOrEmpty(mergePolicyId) ? DefaultTarget : mergePolicyId, actor, ct);
    }

    /// <summary>One snapshot at a time per sandbox in this process: two at once raced to create the snapshot dataset
    /// (the second failed on "a schema named ... already exists") and to trim the kept batches.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    /// <param name="attempt">The job run's id: names the staging folder, so that a re-run after a crash (kill -9 while the
    /// snapshot was written) deletes the half-written staging folder of its earlier attempt.</param>
    public async Task<ProfileSnapshotRun> WriteAsync(string? mergePolicyId, CancellationToken ct = default, string? attempt = null)
    {
        var gate = Gates.GetOrAdd(db.Sandbox.Require(), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try { return await WriteAloneAsync(mergePolicyId, attempt is not null && attempt.All(char.IsAsciiLetterOrDigit) ? attempt : null, ct); }
        finally { gate.Release(); }
    }

    private async Task<ProfileSnapshotRun> WriteAloneAsync(string? mergePolicyId, string? attempt, CancellationToken ct)
    {
        var sandbox = db.Sandbox.Require();
        var policy = string.IsNullOrEmpty(mergePolicyId) || mergePolicyId == DefaultTarget
            ? await policies.GetDefaultAsync(sandbox, ct)
            : await policies.FindAsync(sandbox, mergePolicyId, ct) ?? throw new JobFailedException($"No merge policy {mergePolicyId} in this sandbox.");
        var all = await lake.ListAsync(ct);
        var profileSchemas = all.Where(d => d.ProfileEnabled && !d.System && d.Schema.Class == SchemaClass.Profile)
            .GroupBy(d => d.Schema.Name).Select(g => g.First().Schema).ToList();

        var name = DatasetName(policy);
        var tmpRoot = Path.Combine(lake.LakeRoot, sandbox, LakeFolders.TempFolderName);
        var prefix = "snapshot-" + (attempt is null ? "" : attempt + "-");
        if (attempt is not null && Directory.Exists(tmpRoot))
            foreach (var left in Directory.EnumerateDirectories(tmpRoot, prefix + "*"))
                LakeFolders.TryDelete(left);
        var staging = Path.Combine(tmpRoot, prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tmpRoot);
        try
        {
            var result = await writer.WriteAsync(sandbox, policy, staging, profileSchemas, ct);
            var fields = result.Columns.Select(c => new SchemaField { Path = c.Name, Type = FieldTypeOf(c.Type) }).ToList();
            var dataset = await EnsureDatasetAsync(name, fields, ct);
            var batchId = "snap-" + clock.GetUtcNow().ToString("yyyyMMddHHmmssfff") + "-" + Guid.NewGuid().ToString("N")[..6];
            await File.WriteAllTextAsync(Path.Combine(result.Folder, LakeFolders.SuccessMarker), "", ct);
            LakeFolders.Publish(result.Folder, lake.BatchFolder(sandbox, dataset.Id, batchId));

            // Keep the newest N snapshot batches.
            var folder = lake.DatasetFolder(sandbox, dataset.Id);
            var batches = Directory.EnumerateDirectories(folder).Where(b => !Path.GetFileName(b).StartsWith('_') && LakeFolders.IsComplete(b))
                .OrderByDescending(b => Path.GetFileName(b), StringComparer.Ordinal).ToList();
            foreach (var old in batches.Skip(Keep))
                try { Directory.Delete(old, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            var kept = Math.Min(batches.Count, Keep);

            var tracked = await db.Set<Dataset>().FirstAsync(d => d.Id == dataset.Id, ct);
            tracked.RecordCount = result.Rows;
            tracked.BatchCount = kept;
            tracked.UpdatedAt = clock.GetUtcNow();
            db.Add(new AuditEntry { Actor = "system", Action = "profile.snapshot", Target = dataset.Id, Detail = $"{name}: {result.Rows} profiles, batch {batchId}" });
            await db.SaveChangesAsync(ct);
            return new ProfileSnapshotRun(dataset.Id, name, batchId, result.Rows, kept);
        }
        finally
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The kept snapshots of a snapshot dataset, newest first, with the time each was taken (from its batch id).</summary>
    public static IReadOnlyList<KeptSnapshot> Kept(LakeDataset dataset) =>
        LakeCatalog.CommittedBatchFolders(dataset.Folder).Select(Path.GetFileName).OfType<string>().Reverse()
            .Select((b, i) => new KeptSnapshot(b, TakenAt(b), i == 0)).ToList();

    /// <summary>The time in a snapshot batch id (<c>snap-yyyyMMddHHmmssfff-xxxxxx</c>), or null.</summary>
    public static DateTimeOffset? TakenAt(string batchId) =>
        batchId.Length >= 22 && batchId.StartsWith("snap-", StringComparison.Ordinal)
        && DateTime.TryParseExact(batchId.AsSpan(5, 17), "yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var t)
            ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    private async Task<Dataset> EnsureDatasetAsync(string name, List<SchemaField> fields, CancellationToken ct)
    {
        var existing = await datasets.Query().FirstOrDefaultAsync(d => d.Name == name && d.System, ct);
        if (existing is not null)
        {
            var schema = (await schemas.GetAsync(existing.SchemaId, ct)).ToDefinition();
            var added = fields.Where(f => schema.Find(f.Path) is null).ToList();
            if (added.Count > 0) await schemas.AddFieldsAsync(existing.SchemaId, added, "system", ct);
            return existing;
        }
        Schema created;
        try { created = await schemas.CreateAsync(new SchemaDraft(name, SchemaClass.Profile, fields, "Profile snapshot (written by the portal)."), "system", ct); }
        catch (CatalogException)
        {
            // Another process created it meanwhile: use theirs.
            db.ChangeTracker.Clear();
            if (!await datasets.Query().AnyAsync(d => d.Name == name && d.System, ct)) throw;
            return await EnsureDatasetAsync(name, fields, ct);
        }
        return await datasets.CreateSystemAsync(name, created.Id, "Profile snapshot (written by the portal). Each batch is a whole snapshot: the table shows the newest; the " + Keep + " newest are kept.", ct);
    }

    private static FieldType FieldTypeOf(string duck)
    {
        var t = duck.ToUpperInvariant();
        if (t.StartsWith("TIMESTAMP")) return FieldType.DateTime;
        return t switch
        {
            "BIGINT" or "INTEGER" or "SMALLINT" or "TINYINT" or "HUGEINT" or "UBIGINT" or "UINTEGER" => FieldType.Integer,
            "DOUBLE" or "FLOAT" or "REAL" => FieldType.Number,
            _ when t.StartsWith("DECIMAL") => FieldType.Number,
            "BOOLEAN" => FieldType.Boolean,
            "DATE" => FieldType.Date,
            _ => FieldType.String,
        };
    }
}

/// <summary>Job kind <c>profile-snapshot</c>: target is a merge policy id or <c>default</c>.</summary>
public sealed class ProfileSnapshotJob(ProfileSnapshots snapshots, JobProgress progress) : IPortalJob
{
    public const string Kind = "profile-snapshot";

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        await progress.ReportAsync(0.05, "writing the snapshot", force: true, ct: ct);
        var run = await snapshots.WriteAsync(targetId, ct, progress.JobRunId);
        await progress.ReportAsync(1, $"{run.Rows} profiles written to {run.DatasetName}", force: true, ct: ct);
    }
}

/// <summary>The daily recurring entry point: a snapshot job (default policy) in every sandbox that has profiles.</summary>
public sealed class ProfileSnapshotScheduler(IServiceScopeFactory scopes, CatalogDb db)
{
    public const string RecurringId = "profile-snapshot-daily";
    public const string Cron = "0 2 * * *";

    public async Task EnqueueAllAsync(CancellationToken ct)
    {
        var sandboxes = await db.Set<Sandbox>().AsNoTracking().Select(s => s.Id).ToListAsync(ct);
        foreach (var id in sandboxes)
        {
            await using var scope = scopes.CreateSandboxScope(id);
            var sdb = scope.ServiceProvider.GetRequiredService<CatalogDb>();
            if (!await sdb.Set<Profile>().IgnoreQueryFilters().AnyAsync(p => p.SandboxId == id, ct)) continue;
            await scope.ServiceProvider.GetRequiredService<JobScheduler>().EnqueueAsync(ProfileSnapshotJob.Kind, "default", "schedule", ct);
        }
    }
}
