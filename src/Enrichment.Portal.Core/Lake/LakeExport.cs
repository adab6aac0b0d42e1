using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Enrichment.Portal.Core.Catalog;

namespace Enrichment.Portal.Core.Lake;

/// <summary>The representations of the data access endpoint (<c>GET /api/v1/datasets/{id}/data?format=</c>).</summary>
public enum LakeExportFormat { Parquet, Csv, Jsonl }

/// <summary>
/// Streams a dataset's committed rows (the newest snapshot for a snapshot dataset) as CSV or JSON lines, or as one
/// Parquet file, for notebooks and clients. Rows are read with DuckDB over the lake files and written in chunks of
/// about 64 KB, so a read of any size needs a constant amount of memory on both sides. JSON lines and Parquet hold the
/// values exactly as stored; CSV, the format a spreadsheet opens, neutralizes formula-like text cells (<see cref="CsvSafety"/>).
/// </summary>
public static class LakeExport
{
    private const int FlushBytes = 64 * 1024;

    public static bool TryParseFormat(string? text, out LakeExportFormat format)
    {
        format = LakeExportFormat.Jsonl;
        switch ((text ?? "").Trim().ToLowerInvariant())
        {
            case "csv": format = LakeExportFormat.Csv; return true;
            case "jsonl" or "ndjson" or "json": format = LakeExportFormat.Jsonl; return true;
            case "parquet": format = LakeExportFormat.Parquet; return true;
            default: return false;
        }
    }

    public static string ContentType(LakeExportFormat f) => f switch
    {
        LakeExportFormat.Csv => "text/csv; charset=utf-8",
        LakeExportFormat.Jsonl => "application/x-ndjson; charset=utf-8",
        _ => "application/vnd.apache.parquet",
    };

    public static string Extension(LakeExportFormat f) => f switch
    {
        LakeExportFormat.Csv => ".csv",
        LakeExportFormat.Jsonl => ".jsonl",
        _ => ".parquet",
    };

    /// <summary>The SELECT over the files: the chosen columns (all when none; 422 naming an unknown one), then offset and limit.</summary>
    public static string Select(IReadOnlyList<string> files, IReadOnlyList<string>? columns, long? offset, long? limit)
    {
        var list = string.Join(", ", files.Select(f => $"'{DuckDbLake.Esc(f)}'"));
        var cols = columns is { Count: > 0 } ? string.Join(", ", columns.Select(DuckDbLake.Id)) : "*";
        var sql = $"SELECT {cols} FROM read_parquet([{list}], union_by_name = true)";
        if (limit is { } l) sql += $" LIMIT {l}";
        if (offset is { } o && o > 0) sql += (limit is null ? " LIMIT -1" : "") + $" OFFSET {o}";
        return sql;
    }

    /// <summary>The column names of the files (for checking a <c>columns=</c> list before any byte is sent).</summary>
    public static IReadOnlyList<string> Columns(IReadOnlyList<string> files)
    {
        if (files.Count == 0) return [];
        using var c = DuckDbLake.Open(memoryLimit: "100MB");
        using var cmd = c.CreateCommand();
        cmd.CommandText = Select(files, null, null, 0);
        using var r = cmd.ExecuteReader();
        return Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToList();
    }

    /// <summary>Checks the requested columns against the files' columns; 422 naming the first unknown one.</summary>
    public static void CheckColumns(IReadOnlyList<string> files, IReadOnlyList<string>? columns)
    {
        if (columns is not { Count: > 0 }) return;
        var known = Columns(files).ToHashSet(StringComparer.Ordinal);
        foreach (var col in columns)
            if (!known.Contains(col))
                throw CatalogException.Rule($"The dataset has no column '{col}'.", new Dictionary<string, string[]> { ["columns"] = [$"No column '{col}'."] });
    }

    /// <summary>Writes the rows as CSV (header line, RFC 4180 quoting) or JSON lines (one object per row) to <paramref name="output"/>.</summary>
    public static async Task<long> WriteTextAsync(IReadOnlyList<string> files, LakeExportFormat format, IReadOnlyList<string>? columns,
        long? offset, long? limit, Stream output, CancellationToken ct = default)
    {
        if (format == LakeExportFormat.Parquet) throw new ArgumentException("Parquet is written by WriteParquetAsync.", nameof(format));
        if (files.Count == 0)
        {
            // No data yet: an empty body (CSV: no header either, since no columns are known).
            return 0;
        }
        using var c = DuckDbLake.Open(memoryLimit: "300MB");
        using var cmd = c.CreateCommand();
        // Streaming results: DuckDB hands over chunks as it reads, instead of materializing the whole result first.
        cmd.UseStreamingMode = true;
        cmd.CommandText = Select(files, columns, offset, limit);
        using var r = cmd.ExecuteReader();
        var names = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToArray();
        var buffer = new ArrayBufferWriter<byte>(FlushBytes * 2);
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var text = new StringBuilder();
        if (format == LakeExportFormat.Csv)
        {
            text.AppendJoin(',', names.Select(n => Quote(CsvSafety.Neutralize(n)))).Append('\n');
            Append(buffer, text);
        }
        long rows = 0;
        var encodedNames = names.Select(n => JsonEncodedText.Encode(n, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).ToArray();
        while (r.Read())
        {
            ct.ThrowIfCancellationRequested();
            if (format == LakeExportFormat.Csv)
            {
                text.Clear();
                for (var i = 0; i < names.Length; i++)
                {
                    if (i > 0) text.Append(',');
                    if (!r.IsDBNull(i)) text.Append(Quote(r.GetValue(i) is string cell ? CsvSafety.Neutralize(cell) : CsvText(r.GetValue(i))));
                }
                text.Append('\n');
                Append(buffer, text);
            }
            else
            {
                json.Reset(buffer);
                json.WriteStartObject();
                for (var i = 0; i < names.Length; i++)
                {
                    json.WritePropertyName(encodedNames[i]);
                    if (r.IsDBNull(i)) json.WriteNullValue();
                    else WriteJson(json, r.GetValue(i));
                }
                json.WriteEndObject();
                json.Flush();
                buffer.Write("\n"u8);
            }
            rows++;
            if (buffer.WrittenCount >= FlushBytes)
            {
                await output.WriteAsync(buffer.WrittenMemory, ct);
                buffer.ResetWrittenCount();
            }
        }
        if (buffer.WrittenCount > 0) await output.WriteAsync(buffer.WrittenMemory, ct);
        await output.FlushAsync(ct);
        return rows;
    }

    /// <summary>Writes the rows as one Parquet file into <paramref name="path"/> (for <c>format=parquet</c>; sent, then deleted, by the caller).</summary>
    public static void WriteParquet(IReadOnlyList<string> files, IReadOnlyList<string>? columns, long? offset, long? limit, string path, string? tempDirectory)
    {
        using var c = DuckDbLake.Open(tempDirectory, "300MB");
        DuckDbLake.Exec(c, $"COPY ({Select(files, columns, offset, limit)}) TO '{DuckDbLake.Esc(path)}' (FORMAT parquet, COMPRESSION zstd)");
    }

    private static void Append(ArrayBufferWriter<byte> buffer, StringBuilder text)
    {
        foreach (var chunk in text.GetChunks())
        {
            var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(chunk.Length));
            var n = Encoding.UTF8.GetBytes(chunk.Span, span);
            buffer.Advance(n);
        }
    }

    private static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (s.Length > 0 && (s[0] == ' ' || s[^1] == ' ')) ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    private static string CsvText(object v) => v switch
    {
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        DateTime dt => dt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTimeOffset o => o.ToString("O", CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    private static void WriteJson(Utf8JsonWriter w, object v)
    {
        switch (v)
        {
            case bool b: w.WriteBooleanValue(b); break;
            case long l: w.WriteNumberValue(l); break;
            case int i: w.WriteNumberValue(i); break;
            case short s: w.WriteNumberValue(s); break;
            case byte y: w.WriteNumberValue(y); break;
            case ulong u: w.WriteNumberValue(u); break;
            case uint ui: w.WriteNumberValue(ui); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): w.WriteNumberValue(f); break;
            case double or float: w.WriteNullValue(); break; // NaN / infinity have no JSON number
            case decimal m: w.WriteNumberValue(m); break;
            case System.Numerics.BigInteger big: w.WriteRawValue(big.ToString(CultureInfo.InvariantCulture), skipInputValidation: true); break;
            default: w.WriteStringValue(CsvText(v)); break;
        }
    }
}
