using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Query;
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
public sealed class LakeCatalog(CatalogDb db, IOptions<PortalOptions> options)
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

    /// <summary>The Parquet files of the dataset's committed batches, in a stable order.</summary>
    public static IReadOnlyList<string> DataFiles(LakeDataset dataset) => DataFiles(dataset.Folder);

    public static IReadOnlyList<string> DataFiles(string datasetFolder)
    {
        if (!Directory.Exists(datasetFolder)) return [];
        return Directory.EnumerateDirectories(datasetFolder)
            .Where(b => !Path.GetFileName(b).StartsWith('_') && LakeFolders.IsComplete(b))
            .OrderBy(b => b, StringComparer.Ordinal)
            .SelectMany(b => Directory.EnumerateFiles(b, "part-*.parquet").OrderBy(f => f, StringComparer.Ordinal))
            .ToList();
    }

    /// <summary>Every dataset of the sandbox that has data, as query-service tables named per API.md.</summary>
    public async Task<IReadOnlyList<TableSource>> QueryTablesAsync(CancellationToken ct = default)
    {
        var tables = new List<TableSource>();
        foreach (var d in await ListAsync(ct))
        {
            var files = DataFiles(d);
            if (files.Count > 0) tables.Add(new TableSource(d.TableName, files));
        }
        Profiles.ProfileSnapshots.AddNewestSnapshotTable(await ListAsync(ct), tables);
        return tables;
    }

    private LakeDataset ToLake(Dataset d, Schema s) =>
        new(d.Id, d.SandboxId, d.Name, TableSource.NormalizeName(d.Name), s.ToDefinition(), d.ProfileEnabled, d.System, DatasetFolder(d.SandboxId, d.Id));

    private static string Safe(string id) =>
        id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? id : throw new ArgumentException($"Not a lake id: '{id}'.");
}
