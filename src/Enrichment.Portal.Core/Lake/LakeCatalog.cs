using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Lake;

/// <summary>A dataset as the lake's readers (query service, statistics, training, scoring, profile) see it.</summary>
public sealed record LakeDataset(string Id, string SandboxId, string Name, string TableName, SchemaDefinition Schema,
    bool ProfileEnabled, bool System, string Folder);

/// <summary>
/// Where datasets live in the lake and which of their files are committed. Layout:
/// <c>&lt;data&gt;/lake/&lt;sandboxId&gt;/&lt;datasetId&gt;/&lt;batchId&gt;/part-NNNNN.parquet</c>; a batch folder counts only
/// once it holds the <c>_SUCCESS</c> marker (written last, by an atomic rename of the whole folder), so readers never
/// see half a batch. Works in the current sandbox only.
/// </summary>
public sealed partial class LakeCatalog(CatalogDb db, IOptions<PortalOptions> options)
{
    public string LakeRoot => options.Value.LakeDirectory;

    public string DatasetFolder(string sandboxId, string datasetId) => Path.Combine(LakeRoot, Safe(sandboxId), Safe(datasetId));

    public string BatchFolder(string sandboxId, string datasetId, string batchId) => Path.Combine(DatasetFolder(sandboxId, datasetId), Safe(batchId));

    public async Task<LakeDataset?> FindAsync(string datasetId, CancellationToken ct = default)
    {
        var row = await (from d in db.Set<Dataset>().AsNoTracking()
                         join s in db.Set<Schema>().AsNoTracking() on d.SchemaId equals s.Id
                         where d.Id == datasetId && d.DeletedAt == null
                         select new { d, s }).FirstOrDefaultAsync(ct);
        return row is null ? null : ToLake(row.d, row.s);
    }

    public async Task<IReadOnlyList<LakeDataset>> ListAsync(CancellationToken ct = default)
    {
        var rows = await (from d in db.Set<Dataset>().AsNoTracking()
                          join s in db.Set<Schema>().AsNoTracking() on d.SchemaId equals s.Id
                          where d.DeletedAt == null
                          orderby d.Name
                          select new { d, s }).ToListAsync(ct);
        return rows.Select(r => ToLake(r.d, r.s)).ToList();
    }

    /// <summary>Prefix of the system datasets the profile snapshot export writes (<c>Profile-Snapshot-Export-&lt;policy&gt;</c>).</summary>
    public const string SnapshotPrefix = "Profile-Snapshot-Export-";

    /// <summary>Whether the dataset is a profile snapshot export: each of its batches is a whole snapshot, not a part of the data.</summary>
    public static bool IsSnapshot(LakeDataset dataset) =>
        dataset.System && dataset.Name.StartsWith(SnapshotPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The dataset's current data, as Parquet files in a stable order: every committed batch; for a profile snapshot
    /// dataset only its newest snapshot (batch), since each kept batch is a full copy of the profiles at its time
    /// (the older ones are in <see cref="AllDataFiles(LakeDataset)"/> and <see cref="CommittedBatchFolders"/>).
    /// What the query service's table, the preview, statistics and training read.
    /// </summary>
    public static IReadOnlyList<string> DataFiles(LakeDataset dataset)
    {
        if (!IsSnapshot(dataset)) return DataFiles(dataset.Folder);
        var newest = CommittedBatchFolders(dataset.Folder).LastOrDefault();
        return newest is null ? [] : BatchFiles(newest);
    }

    /// <summary>Every committed batch's files, snapshots included (for rewrites such as the privacy delete).</summary>
    public static IReadOnlyList<string> AllDataFiles(LakeDataset dataset) => DataFiles(dataset.Folder);

    public static IReadOnlyList<string> DataFiles(string datasetFolder) =>
        CommittedBatchFolders(datasetFolder).SelectMany(BatchFiles).ToList();

    /// <summary>The committed batch folders of a dataset, oldest first (batch ids sort by time: snapshot ids are dated).</summary>
    public static IReadOnlyList<string> CommittedBatchFolders(string datasetFolder)
    {
        if (!Directory.Exists(datasetFolder)) return [];
        return Directory.EnumerateDirectories(datasetFolder)
            .Where(b => !Path.GetFileName(b).StartsWith('_') && LakeFolders.IsComplete(b))
            .OrderBy(b => b, StringComparer.Ordinal)
            .ToList();
    }

    private static IReadOnlyList<string> BatchFiles(string batchFolder) =>
        Directory.EnumerateFiles(batchFolder, "part-*.parquet").OrderBy(f => f, StringComparer.Ordinal).ToList();

    /// <summary>The snapshot dataset holding the newest snapshot of the sandbox (any merge policy), or null: the
    /// query service's <c>profile_snapshot</c> is its <see cref="DataFiles(LakeDataset)"/>.</summary>
    public static LakeDataset? NewestSnapshot(IEnumerable<LakeDataset> datasets) =>
        datasets.Where(IsSnapshot)
            .Select(d => (Dataset: d, Newest: CommittedBatchFolders(d.Folder).Select(Path.GetFileName).LastOrDefault()))
            .Where(x => x.Newest is not null)
            .OrderByDescending(x => x.Newest, StringComparer.Ordinal).ThenByDescending(x => x.Dataset.Id, StringComparer.Ordinal)
            .Select(x => x.Dataset).FirstOrDefault();

    private LakeDataset ToLake(Dataset d, Schema s) =>
        new(d.Id, d.SandboxId, d.Name, TableName(d.Name), s.ToDefinition(), d.ProfileEnabled, d.System, DatasetFolder(d.SandboxId, d.Id));

    /// <summary>The table name of a dataset per API.md: lower case, every non-alphanumeric as <c>_</c>, prefixed by <c>_</c> when it starts with a digit.</summary>
    public static string TableName(string datasetName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(datasetName);
        var name = NonAlphanumeric().Replace(datasetName.Trim().ToLowerInvariant(), "_");
        return char.IsDigit(name[0]) ? "_" + name : name;
    }

    [System.Text.RegularExpressions.GeneratedRegex("[^a-z0-9]")]
    private static partial System.Text.RegularExpressions.Regex NonAlphanumeric();

    private static string Safe(string id) =>
        id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? id : throw new ArgumentException($"Not a lake id: '{id}'.");
}
