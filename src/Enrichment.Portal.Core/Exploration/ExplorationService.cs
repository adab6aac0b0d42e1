using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Ingestion.LakeWriters;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Exploration;

/// <summary><c>Exploration:*</c></summary>
public sealed class ExplorationOptions
{
    public const string Section = "Exploration";
    /// <summary>Datasets whose committed Parquet files total at most this many bytes are computed right away (a request waits
    /// a few seconds at most); larger ones run as a background job. Default 64 MB (Online Retail, 541,909 rows, is about 10 MB).</summary>
    public long SyncMaxBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>DuckDB memory limit of one statistics run.</summary>
    public string MemoryLimit { get; set; } = "2GB";
    public int Threads { get; set; } = 2;
}

/// <summary>What <see cref="ExplorationService.LookupAsync"/> found for a dataset version and target.</summary>
/// <param name="Report">The cached statistics, when ready.</param>
/// <param name="JobRunId">The job computing them, when one is running.</param>
/// <param name="Small">Whether the dataset is small enough to compute right away.</param>
/// <param name="Error">The reason of the last failed computation of this version, if any.</param>
public sealed record StatsLookup(StatsReport? Report, string? JobRunId, bool Small, string? Error);

/// <summary>A dataset that can be explored: every dataset of the sandbox with committed data, and the profile snapshot.</summary>
public sealed record ExploreSource(string DatasetId, string Name, bool IsSnapshot, IReadOnlyList<Schemas.SchemaField> Fields);

/// <summary>
/// Dataset statistics for pages, endpoints and the stats job: computes with <see cref="DatasetStatistics"/> over the committed
/// batch files (DuckDB, nothing loaded into .NET) and caches the result per dataset version and target in the catalog.
/// Works in the current sandbox. Refusals are <see cref="CatalogException"/>s.
/// </summary>
public sealed class ExplorationService(CatalogDb db, LakeCatalog lake, JobScheduler jobs, IOptions<ExplorationOptions> options, TimeProvider clock)
{
    /// <summary>Prefix of the system datasets the profile snapshot export writes (the newest is <c>profile_snapshot</c>).</summary>
    public const string SnapshotPrefix = LakeCatalog.SnapshotPrefix;

    /// <summary>The snapshot dataset with the newest snapshot, or null when none exists yet (<see cref="LakeCatalog.NewestSnapshot"/>).</summary>
    public static LakeDataset? NewestSnapshot(IEnumerable<LakeDataset> datasets) => LakeCatalog.NewestSnapshot(datasets);

    /// <summary>Datasets with committed data, by name; the newest snapshot first when there is one.</summary>
    public async Task<IReadOnlyList<ExploreSource>> SourcesAsync(CancellationToken ct = default)
    {
        var all = await lake.ListAsync(ct);
        var snapshot = NewestSnapshot(all);
        var list = new List<ExploreSource>();
        if (snapshot is not null && LakeCatalog.DataFiles(snapshot).Count > 0)
            list.Add(new ExploreSource(snapshot.Id, "Profile snapshot (newest)", true, snapshot.Schema.Fields));
        list.AddRange(all.Where(d => LakeCatalog.DataFiles(d).Count > 0).Select(d => new ExploreSource(d.Id, d.Name, false, d.Schema.Fields)));
        return list;
    }

    /// <summary>The cached statistics of the dataset's current version, or the job computing them.</summary>
    public async Task<StatsLookup> LookupAsync(string datasetId, string? target, string? positive, CancellationToken ct = default)
    {
        var (dataset, files) = await DataAsync(datasetId, ct);
        var key = VersionKey(files);
        var (t, p) = (target?.Trim() ?? "", positive?.Trim() ?? "");
        var entries = await db.Set<DatasetStatsCacheEntry>().AsNoTracking()
            .Where(e => e.DatasetId == dataset.Id && e.VersionKey == key && e.Target == t && e.Positive == p)
            .ToListAsync(ct);
        var small = files.Sum(f => new FileInfo(f).Length) <= options.Value.SyncMaxBytes;
        var ready = entries.Where(e => e.Status == StatsCacheStatus.Ready && e.ReportJson is not null).OrderByDescending(e => e.ComputedAt).FirstOrDefault();
        if (ready is not null)
            return new StatsLookup(JsonSerializer.Deserialize<StatsReport>(ready.ReportJson!, StatsReport.Json)! with { Cached = true }, null, small, null);
        var running = entries.Where(e => e.Status == StatsCacheStatus.Computing && e.JobRunId is not null).OrderByDescending(e => e.CreatedAt).FirstOrDefault();
        if (running is not null)
        {
            var run = await db.Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == running.JobRunId, ct);
            if (run is not null && !JobStatus.IsFinal(run.Status)) return new StatsLookup(null, run.Id, small, null);
        }
        var failed = entries.Where(e => e.Status == StatsCacheStatus.Failed).OrderByDescending(e => e.CreatedAt).FirstOrDefault();
        return new StatsLookup(null, null, small, failed?.Error);
    }

    /// <summary>Computes now (in the caller's time), stores in the cache and returns the report. For small datasets and the job.</summary>
    public async Task<StatsReport> ComputeAsync(string datasetId, string? target, string? positive, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var entry = new DatasetStatsCacheEntry { DatasetId = datasetId, Target = target?.Trim() ?? "", Positive = positive?.Trim() ?? "" };
        var (dataset, files) = await DataAsync(datasetId, ct);
        entry.DatasetId = dataset.Id;
        entry.VersionKey = VersionKey(files);
        db.Add(entry);
        await db.SaveChangesAsync(ct);
        return await ComputeEntryAsync(entry, dataset, files, progress, ct);
    }

    /// <summary>Starts the background job for large datasets (or returns the one already running); returns its job id.</summary>
    public async Task<string> StartAsync(string datasetId, string? target, string? positive, string? actor, CancellationToken ct = default)
    {
        var lookup = await LookupAsync(datasetId, target, positive, ct);
        if (lookup.JobRunId is not null) return lookup.JobRunId;
        var (dataset, files) = await DataAsync(datasetId, ct);
        ValidateTarget(dataset, target);
        var entry = new DatasetStatsCacheEntry
        {
            DatasetId = dataset.Id, VersionKey = VersionKey(files), Target = target?.Trim() ?? "", Positive = positive?.Trim() ?? "",
        };
        db.Add(entry);
        await db.SaveChangesAsync(ct);
        var run = await jobs.EnqueueAsync(DatasetStatsJob.Kind, entry.Id, actor, ct);
        entry.JobRunId = run.Id;
        await db.SaveChangesAsync(ct);
        return run.Id;
    }

    /// <summary>The job's work: computes the entry it was given (idempotent: a ready entry is left as it is).</summary>
    public async Task RunEntryAsync(string entryId, IProgress<double>? progress, CancellationToken ct)
    {
        var entry = await db.Set<DatasetStatsCacheEntry>().FirstOrDefaultAsync(e => e.Id == entryId, ct)
            ?? throw new JobFailedException($"No statistics request {entryId}.");
        if (entry.Status == StatsCacheStatus.Ready) return;
        var (dataset, files) = await DataAsync(entry.DatasetId, ct);
        entry.VersionKey = VersionKey(files);
        try { await ComputeEntryAsync(entry, dataset, files, progress, ct); }
        catch (CatalogException e) { throw new JobFailedException(e.Message); }
    }

    private async Task<StatsReport> ComputeEntryAsync(DatasetStatsCacheEntry entry, LakeDataset dataset, IReadOnlyList<string> files,
        IProgress<double>? progress, CancellationToken ct)
    {
        try
        {
            var folders = CommittedFolders(files);
            var stats = await new DatasetStatistics().ComputeAsync(files, dataset.Schema.Fields, Empty(entry.Target), new StatsOptions
            {
                TargetPositive = Empty(entry.Positive),
                RejectedByField = RejectedByField(folders),
                MemoryLimit = options.Value.MemoryLimit,
                Threads = options.Value.Threads,
            }, ct, progress);
            var now = clock.GetUtcNow();
            var report = StatsReport.From(dataset.Id, dataset.Name, folders.Count, stats, now);
            entry.Status = StatsCacheStatus.Ready;
            entry.ReportJson = JsonSerializer.Serialize(report, StatsReport.Json);
            entry.ComputedAt = now;
            entry.Error = null;
            await db.SaveChangesAsync(CancellationToken.None);
            await PruneAsync(entry, CancellationToken.None);
            return report;
        }
        catch (ArgumentException e)
        {
            await FailAsync(entry, e.Message);
            throw CatalogException.Invalid("target", e.Message);
        }
        catch (DuckDB.NET.Data.DuckDBException e)
        {
            await FailAsync(entry, e.Message);
            throw CatalogException.Rule("The statistics could not be computed: " + e.Message);
        }
        catch (Exception e) when (e is not CatalogException)
        {
            await FailAsync(entry, e is OperationCanceledException ? "Cancelled." : e.Message);
            throw;
        }
    }

    private async Task FailAsync(DatasetStatsCacheEntry entry, string reason)
    {
        entry.Status = StatsCacheStatus.Failed;
        entry.Error = reason.Length > 3900 ? reason[..3900] : reason;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>Older versions of the same dataset are of no use once a newer one is ready.</summary>
    private Task PruneAsync(DatasetStatsCacheEntry kept, CancellationToken ct) =>
        db.Set<DatasetStatsCacheEntry>()
            .Where(e => e.DatasetId == kept.DatasetId && e.Id != kept.Id && e.Status != StatsCacheStatus.Computing
                        && (e.VersionKey != kept.VersionKey || (e.Target == kept.Target && e.Positive == kept.Positive)))
            .ExecuteDeleteAsync(ct);

    private static void ValidateTarget(LakeDataset dataset, string? target)
    {
        if (string.IsNullOrWhiteSpace(target)) return;
        if (!dataset.Schema.Fields.Any(f => string.Equals(f.Path, target.Trim(), StringComparison.OrdinalIgnoreCase)))
            throw CatalogException.Invalid("target", $"Target '{target}' is not a field of the dataset '{dataset.Name}'.");
    }

    private async Task<(LakeDataset Dataset, IReadOnlyList<string> Files)> DataAsync(string datasetId, CancellationToken ct)
    {
        var dataset = await lake.FindAsync(datasetId, ct) ?? throw CatalogException.NotFound($"No dataset {datasetId} in this sandbox.");
        var files = LakeCatalog.DataFiles(dataset);
        if (files.Count == 0)
            throw CatalogException.Rule($"The dataset '{dataset.Name}' has no committed batch yet: ingest data first.");
        return (dataset, files);
    }

    /// <summary>The dataset version: a hash of its committed batch folders (a new, retried or deleted batch changes it).</summary>
    public static string VersionKey(IReadOnlyList<string> files)
    {
        var text = string.Join("\n", CommittedFolders(files).Select(Path.GetFileName));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static IReadOnlyList<string> CommittedFolders(IReadOnlyList<string> files) =>
        files.Select(f => Path.GetDirectoryName(f)!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Rejected records per field, summed over the committed batches' <c>_errors</c> Parquet files.</summary>
    internal static IReadOnlyDictionary<string, long> RejectedByField(IReadOnlyList<string> batchFolders)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        var globs = batchFolders.Select(f => Path.Combine(f, LakePartWriter.ErrorsFolder))
            .Where(d => Directory.Exists(d) && Directory.EnumerateFiles(d, "errors-*.parquet").Any())
            .Select(d => "'" + DuckDbLake.Esc(Path.Combine(d, "errors-*.parquet")) + "'").ToList();
        if (globs.Count == 0) return result;
        using var c = DuckDbLake.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT field, count(*) FROM read_parquet([{string.Join(", ", globs)}]) WHERE field IS NOT NULL GROUP BY field";
        using var r = cmd.ExecuteReader();
        while (r.Read()) result[r.GetString(0)] = Convert.ToInt64(r.GetValue(1));
        return result;
    }

    private static string? Empty(string s) => s.Length == 0 ? null : s;
}
