using System.Globalization;

namespace Enrichment.Portal.Core.Lake;

/// <summary>Stored records of a dataset (first rows of its committed files).</summary>
public sealed record LakeRows(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows);

/// <summary>The first rows of committed lake files, as text, for the dataset page.</summary>
public static class LakePreview
{
    /// <summary>Reads at most <paramref name="limit"/> rows (capped at 1,000) of the files, in file order. No files: no columns, no rows.</summary>
    public static Task<LakeRows> ReadAsync(IReadOnlyList<string> files, int limit = 20, CancellationToken ct = default) => Task.Run(() =>
    {
        if (files.Count == 0) return new LakeRows([], []);
        limit = Math.Clamp(limit, 1, 1000);
        using var c = DuckDbLake.Open(memoryLimit: "200MB");
        using var cmd = c.CreateCommand();
        var list = string.Join(", ", files.Select(f => $"'{DuckDbLake.Esc(f)}'"));
        cmd.CommandText = $"SELECT * FROM read_parquet([{list}], union_by_name = true) LIMIT {limit}";
        using var r = cmd.ExecuteReader();
        var cols = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToList();
        var rows = new List<IReadOnlyList<string?>>();
        while (r.Read())
        {
            ct.ThrowIfCancellationRequested();
            rows.Add(Enumerable.Range(0, cols.Count).Select(i => r.IsDBNull(i) ? null : Text(r.GetValue(i))).ToList());
        }
        return new LakeRows(cols, rows);
    }, ct);

    private static string? Text(object v) => v switch
    {
        DateTime dt => dt.TimeOfDay == TimeSpan.Zero && dt.Kind != DateTimeKind.Utc ? dt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : dt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double x => x.ToString("G", CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture),
    };
}
