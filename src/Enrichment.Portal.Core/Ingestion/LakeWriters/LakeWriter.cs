using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Ingestion.LakeWriters;

/// <summary>Writes already validated records (e.g. a streaming micro-batch) into the lake atomically.</summary>
public static class LakeWriter
{
    /// <summary>
    /// Writes <paramref name="records"/> (field path -> value as produced by <see cref="RecordValidator"/>: string, long, double,
    /// bool, DateOnly, DateTime UTC, JSON text for array/map/object; missing keys are null) to <c>&lt;lakeFolder&gt;/part-00000.parquet</c>
    /// with a <c>_SUCCESS</c> marker, visible all at once. Use one new folder per micro-batch (e.g. <c>&lt;dataset&gt;/stream-&lt;utc ticks&gt;</c>).
    /// Returns the files written (none, and no folder, when there are no records).
    /// </summary>
    public static IReadOnlyList<LakeFileInfo> WriteRecords(string lakeFolder, SchemaDefinition schema, IEnumerable<IReadOnlyDictionary<string, object?>> records)
    {
        LakeFolders.CleanLeftovers(lakeFolder);
        var tmp = LakeFolders.CreateTemp(lakeFolder);
        try
        {
            List<LakeFileInfo> files;
            using (var w = new LakePartWriter(tmp, schema, "200MB"))
            {
                var typed = new object?[schema.Fields.Count];
                var any = false;
                foreach (var r in records)
                {
                    for (var i = 0; i < typed.Length; i++)
                        typed[i] = r.TryGetValue(schema.Fields[i].Path, out var v) ? v : null;
                    w.Append(typed);
                    any = true;
                }
                if (!any) return [];
                w.FlushData();
                files = w.Files;
            }
            File.WriteAllText(Path.Combine(tmp, LakeFolders.SuccessMarker), "");
            LakeFolders.Publish(tmp, lakeFolder);
            return files;
        }
        finally
        {
            LakeFolders.TryDelete(tmp);
        }
    }
}
