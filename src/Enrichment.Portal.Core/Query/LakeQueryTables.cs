using Enrichment.Portal.Core.Lake;

namespace Enrichment.Portal.Core.Query;

/// <summary>The lake's datasets as query-service tables (the query service reads the lake; the lake knows nothing of queries).</summary>
public static class LakeQueryTables
{
    /// <summary>Every dataset of the sandbox that has data, as query-service tables named per API.md.</summary>
    public static async Task<IReadOnlyList<TableSource>> QueryTablesAsync(this LakeCatalog lake, CancellationToken ct = default)
    {
        var tables = new List<TableSource>();
        var all = await lake.ListAsync(ct);
        foreach (var d in all)
        {
            var files = LakeCatalog.DataFiles(d);
            if (files.Count > 0) tables.Add(new TableSource(d.TableName, files));
        }
        AddNewestSnapshotTable(all, tables);
        return tables;
    }

    /// <summary>The query service's <c>profile_snapshot</c> table: the newest snapshot (batch) of any snapshot dataset
    /// (added to <paramref name="tables"/> unless a dataset already uses that name).</summary>
    public static void AddNewestSnapshotTable(IReadOnlyList<LakeDataset> datasets, List<TableSource> tables)
    {
        if (tables.Any(t => t.Name == "profile_snapshot")) return;
        if (LakeCatalog.NewestSnapshot(datasets) is not { } newest) return;
        var files = LakeCatalog.DataFiles(newest);
        if (files.Count > 0) tables.Add(new TableSource("profile_snapshot", files));
    }
}
