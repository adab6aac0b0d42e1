using System.Text;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Identity;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>Rewrites lake Parquet files without the rows of deleted identities (privacy delete), atomically per file.</summary>
public static class LakeRowRemover
{
    /// <summary>
    /// Rewrites each file that has matching rows without them: a row matches when any of <paramref name="columnValues"/>'s
    /// columns (present in the file), normalized by <paramref name="normalizers"/> (default: trimmed), equals one of the values.
    /// Each file is written to a temporary file beside it and renamed over it. Returns how many rows were removed.
    /// <para><paramref name="attempt"/> (the job run's id) names the temporary files, so that a re-run of the same job after a
    /// crash (kill -9 during a rewrite) deletes the half-written temporary files its earlier attempt left beside the files.</para>
    /// </summary>
    public static async Task<long> RemoveRowsAsync(IEnumerable<string> parquetFiles, IReadOnlyDictionary<string, IReadOnlyCollection<string>> columnValues,
        IReadOnlyDictionary<string, NormalizerKind>? normalizers = null, CancellationToken ct = default, string? attempt = null)
    {
        var key = attempt is not null && attempt.All(char.IsAsciiLetterOrDigit) ? attempt : null;
        using var duck = new DuckDBConnection("DataSource=:memory:");
        await duck.OpenAsync(ct);
        long removed = 0;
        foreach (var file in parquetFiles)
        {
            ct.ThrowIfCancellationRequested();
            if (key is not null) DeleteLeftovers(file, key);
            var src = Lit(file);
            var present = new HashSet<string>(StringComparer.Ordinal);
            await using (var cmd = duck.CreateCommand())
            {
                cmd.CommandText = $"SELECT name FROM parquet_schema({src})";
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct)) present.Add(r.GetString(0));
            }
            var conds = new List<string>();
            foreach (var (column, values) in columnValues)
            {
                if (!present.Contains(column) || values.Count == 0) continue;
                var kind = normalizers is not null && normalizers.TryGetValue(column, out var k) ? k : NormalizerKind.Id;
                var col = "CAST(\"" + column.Replace("\"", "\"\"", StringComparison.Ordinal) + "\" AS VARCHAR)";
                var expr = kind switch
                {
                    NormalizerKind.Email => $"lower(trim({col}))",
                    NormalizerKind.Phone => $"regexp_replace({col}, '[^0-9]', '', 'g')",
                    _ => $"trim({col})",
                };
                // Integral numbers are stored as identity strings without decimals (17850.0 -> 17850).
                if (kind == NormalizerKind.Id) expr = $"regexp_replace({expr}, '\\.0+$', '')";
                conds.Add($"coalesce({expr} IN ({string.Join(",", values.Select(Lit))}), false)");
            }
            if (conds.Count == 0) continue;
            var match = string.Join(" OR ", conds);
            long count;
            await using (var cmd = duck.CreateCommand())
            {
                cmd.CommandText = $"SELECT count(*) FROM read_parquet({src}) WHERE {match}";
                count = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
            }
            if (count == 0) continue;
            var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
            var tmp = Path.Combine(dir, "." + Path.GetFileName(file) + "." + (key is null ? "" : key + "-") + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                await using (var cmd = duck.CreateCommand())
                {
                    cmd.CommandText = $"COPY (SELECT * FROM read_parquet({src}) WHERE NOT ({match})) TO {Lit(tmp)} (FORMAT parquet, COMPRESSION zstd)";
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                File.Move(tmp, file, overwrite: true);
            }
            finally
            {
                if (File.Exists(tmp)) File.Delete(tmp);
            }
            removed += count;
        }
        return removed;
    }

    /// <summary>Deletes the temporary files an earlier attempt of the same job left beside <paramref name="file"/>.</summary>
    private static void DeleteLeftovers(string file, string key)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(file));
        if (dir is null || !Directory.Exists(dir)) return;
        foreach (var left in Directory.EnumerateFiles(dir, "." + Path.GetFileName(file) + "." + key + "-*.tmp"))
            try { File.Delete(left); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    internal static string Lit(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('\'');
        sb.Append(s.Replace("'", "''", StringComparison.Ordinal));
        return sb.Append('\'').ToString();
    }
}
