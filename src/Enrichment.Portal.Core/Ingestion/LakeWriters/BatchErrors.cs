using Enrichment.Portal.Core.Lake;

namespace Enrichment.Portal.Core.Ingestion.LakeWriters;

/// <summary>A page of a batch's rejected records.</summary>
public sealed record BatchErrorPage(long Total, IReadOnlyList<RejectedRecord> Items);

/// <summary>Reads the rejected records kept in a batch folder (<c>_errors/errors-*.parquet</c>).</summary>
public static class BatchErrors
{
    /// <summary>Rejected records ordered by row number, then code and field; <paramref name="limit"/> is capped at 10,000.</summary>
    public static BatchErrorPage Read(string lakeFolder, long offset = 0, int limit = 100)
    {
        var glob = Glob(lakeFolder);
        if (glob is null) return new BatchErrorPage(0, []);
        limit = Math.Clamp(limit, 0, 10_000);
        offset = Math.Max(0, offset);
        using var c = DuckDbLake.Open();
        var total = Convert.ToInt64(DuckDbLake.Scalar(c, $"SELECT count(*) FROM read_parquet('{glob}')"));
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT \"row\", field, code, message, raw FROM read_parquet('{glob}') ORDER BY \"row\", code, field LIMIT {limit} OFFSET {offset}";
        using var r = cmd.ExecuteReader();
        var items = new List<RejectedRecord>();
        while (r.Read())
            items.Add(new RejectedRecord(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
        return new BatchErrorPage(total, items);
    }

    /// <summary>Writes all rejected records as a CSV file (header <c>row,field,code,message,raw</c>) for download; false when there are none.</summary>
    public static bool ExportCsv(string lakeFolder, string csvPath)
    {
        var glob = Glob(lakeFolder);
        if (glob is null) return false;
        using var c = DuckDbLake.Open();
        DuckDbLake.Exec(c, $"COPY (SELECT \"row\", {CsvSafety.NeutralizeSql("field")} AS field, code, {CsvSafety.NeutralizeSql("message")} AS message, {CsvSafety.NeutralizeSql("raw")} AS raw FROM read_parquet('{glob}') ORDER BY \"row\", code, field) TO '{DuckDbLake.Esc(csvPath)}' (FORMAT csv, HEADER true)");
        return true;
    }

    private static string? Glob(string lakeFolder)
    {
        var dir = Path.Combine(lakeFolder, LakePartWriter.ErrorsFolder);
        if (!Directory.Exists(dir) || !Directory.EnumerateFiles(dir, "errors-*.parquet").Any()) return null;
        return DuckDbLake.Esc(Path.Combine(dir, "errors-*.parquet"));
    }
}
