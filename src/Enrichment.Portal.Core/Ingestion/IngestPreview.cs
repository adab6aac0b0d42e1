using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Ingestion.Readers;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>The first rows of an upload as text, for the wizard's mapping step. <see cref="Error"/> is set when the file cannot be read.</summary>
public sealed record PreviewResult(
    InputFormat? Format,
    IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<string?>> Rows,
    IReadOnlyDictionary<string, string> SuggestedMapping,
    string? Error);

/// <summary>Reads the first rows of an upload (raw text values) and suggests a mapping to a schema.</summary>
public static class IngestPreview
{
    /// <summary>
    /// Columns are the CSV header, the Parquet columns, or the dotted leaf paths of the first JSON records (in order of appearance).
    /// Never throws for bad input: returns a result with <see cref="PreviewResult.Error"/>.
    /// </summary>
    public static Task<PreviewResult> PreviewAsync(string filePath, string fileName, char delimiter = ',', int maxRows = 20,
        SchemaDefinition? schema = null, CancellationToken ct = default, string? encoding = null) =>
        Task.Run(() => Preview(filePath, fileName, delimiter, maxRows, schema, encoding), ct);

    private static PreviewResult Preview(string filePath, string fileName, char delimiter, int maxRows, SchemaDefinition? schema, string? encoding)
    {
        InputFormat? format = null;
        try
        {
            var (fmt, gzip) = InputOpener.Detect(filePath, fileName);
            format = fmt;
            if (fmt != InputFormat.Parquet) InputOpener.RejectBinary(filePath, gzip);
            var (cols, rows) = fmt switch
            {
                InputFormat.Csv => Csv(filePath, gzip, delimiter, maxRows, encoding),
                InputFormat.Parquet => Parquet(filePath, maxRows),
                _ => Json(filePath, gzip, fmt, maxRows, encoding),
            };
            var mapping = schema is null ? new Dictionary<string, string>() : MappingSuggester.Suggest(cols, schema);
            return new PreviewResult(fmt, cols, rows, mapping, null);
        }
        catch (Exception ex) when (ex is IngestFailureException or DecoderFallbackException or InvalidDataException or DuckDBException or JsonException or IOException)
        {
            return new PreviewResult(format, [], [], new Dictionary<string, string>(), ex.Message);
        }
    }

    private static (List<string>, List<IReadOnlyList<string?>>) Csv(string path, bool gzip, char delimiter, int maxRows, string? encoding)
    {
        using var s = InputOpener.Open(path, gzip);
        using var text = TextDecoding.Reader(s, encoding);
        var p = new CsvRecordReader(text, delimiter, '"') { MaxRecordChars = 4 << 20 };
        var header = new List<string>();
        if (!p.TryRead(header, out _)) throw new IngestFailureException("the file is empty");
        if (TextDecoding.HasInvalidBytes(header)) throw new IngestFailureException("the header row has " + TextDecoding.Describe(header, null).Message);
        var columns = header.Select(h => h.Trim()).ToList();
        CsvHeader.RejectDuplicates(columns);
        var rows = new List<IReadOnlyList<string?>>();
        var f = new List<string>();
        while (rows.Count < maxRows && p.TryRead(f, out _)) rows.Add(f.Select(v => (string?)TextDecoding.Visible(v, int.MaxValue)).ToList());
        return (columns, rows);
    }

    private static (List<string>, List<IReadOnlyList<string?>>) Parquet(string path, int maxRows)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT * FROM read_parquet('{path.Replace("'", "''")}') LIMIT {maxRows}";
        using var r = cmd.ExecuteReader();
        var cols = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToList();
        var rows = new List<IReadOnlyList<string?>>();
        while (r.Read())
            rows.Add(Enumerable.Range(0, cols.Count).Select(i => r.IsDBNull(i) ? null : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).ToList());
        return (cols, rows);
    }

    private static (List<string>, List<IReadOnlyList<string?>>) Json(string path, bool gzip, InputFormat fmt, int maxRows, string? encoding)
    {
        using var s = TextDecoding.AsUtf8(InputOpener.Open(path, gzip), encoding);
        var lines = fmt == InputFormat.JsonLines ? new JsonLinesReader(s, 1 << 20) : null;
        var array = fmt == InputFormat.JsonArray ? new JsonArrayReader(s, 64 << 20) : null;
        var cols = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var records = new List<Dictionary<string, JsonElement>>();
        var docs = new List<JsonDocument>();
        try
        {
            while (records.Count < maxRows)
            {
                JsonRecord rec;
                if (!(lines?.TryRead(out rec) ?? array!.TryRead(out rec))) break;
                if (rec.Document is null) { records.Add([]); continue; }
                docs.Add(rec.Document);
                if (rec.Document.RootElement.ValueKind != JsonValueKind.Object) { records.Add([]); continue; }
                var flat = JsonFlattener.Flatten(rec.Document.RootElement);
                foreach (var (k, v) in flat)
                    if (v.ValueKind != JsonValueKind.Object && seen.Add(k)) cols.Add(k);
                records.Add(flat);
            }
            var rows = records.Select(r => (IReadOnlyList<string?>)cols.Select(c => r.TryGetValue(c, out var v)
                ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.ValueKind == JsonValueKind.Null ? null : v.GetRawText())
                : null).ToList()).ToList();
            return (cols, rows);
        }
        finally { foreach (var d in docs) d.Dispose(); }
    }
}
