using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>One column of a file and the field it would become: its path, its type, and, for an id or e-mail column, an identity.</summary>
public sealed record InferredField
{
    /// <summary>The source column (CSV header, Parquet column, or dotted JSON path).</summary>
    public required string Column { get; init; }
    public required string Path { get; init; }
    public required FieldType Type { get; init; }
    public bool Required { get; init; }
    public IdentityMapping? Identity { get; init; }
    /// <summary>Why this type or identity was chosen, in a sentence (shown in the review).</summary>
    public string? Reason { get; init; }
    /// <summary>Up to three distinct values of the sample.</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];
    /// <summary>Share of sampled rows with a value (0..1).</summary>
    public double Filled { get; init; }
}

/// <summary>
/// The schema a file suggests (<see cref="SchemaInference"/>): the fields to review before saving, and the mapping from the file's
/// columns to them for the upload. <see cref="Error"/> is set (and nothing else) when the file cannot be read.
/// </summary>
public sealed record InferredSchema(InputFormat? Format, char Delimiter, int SampledRows, IReadOnlyList<InferredField> Fields, string? Error)
{
    /// <summary>The fields as a schema draft's fields.</summary>
    public IReadOnlyList<SchemaField> ToSchemaFields() =>
        Fields.Select(f => new SchemaField { Path = f.Path, Type = f.Type, Required = f.Required, Identity = f.Identity }).ToList();

    /// <summary>Source column -> field path.</summary>
    public IReadOnlyDictionary<string, string> Mapping => Fields.ToDictionary(f => f.Column, f => f.Path, StringComparer.Ordinal);
}

/// <summary>
/// Infers a schema from a sample of a file (CSV with any common delimiter, JSON lines / array, Parquet; optionally .gz):
/// each column's type is the narrowest one every sampled value coerces to the way ingestion will coerce it (boolean, integer,
/// number, date, datetime, else string); columns whose name or values look like an e-mail, phone, or customer / CRM id are
/// suggested as identities with their namespace (as strings, one primary). Nothing is stored: the caller reviews and saves.
/// </summary>
public static class SchemaInference
{
    public const int DefaultSampleRows = 1000;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Task<InferredSchema> InferAsync(string filePath, string fileName, SchemaClass schemaClass = SchemaClass.Profile,
        char? delimiter = null, int sampleRows = DefaultSampleRows, string? encoding = null, CancellationToken ct = default) =>
        Task.Run(async () =>
        {
            var sep = delimiter ?? ',';
            var preview = await IngestPreview.PreviewAsync(filePath, fileName, sep, sampleRows, null, ct, encoding);
            // A CSV read with ',' that gives one column holding ';' or tabs is another delimiter.
            if (delimiter is null && preview.Error is null && preview.Format == InputFormat.Csv && preview.Columns.Count == 1)
            {
                foreach (var other in new[] { ';', '\t', '|' })
                {
                    if (!preview.Columns[0].Contains(other)) continue;
                    sep = other;
                    preview = await IngestPreview.PreviewAsync(filePath, fileName, sep, sampleRows, null, ct, encoding);
                    break;
                }
            }
            if (preview.Error is not null) return new InferredSchema(preview.Format, sep, 0, [], preview.Error);
            var parquetTypes = preview.Format == InputFormat.Parquet ? ParquetTypes(filePath) : null;
            return Infer(preview, sep, schemaClass, parquetTypes);
        }, ct);

    /// <summary>Infers from rows already read (text values); <paramref name="parquetTypes"/> are the DuckDB column types of a Parquet file.</summary>
    public static InferredSchema Infer(PreviewResult preview, char delimiter, SchemaClass schemaClass, IReadOnlyDictionary<string, string>? parquetTypes = null)
    {
        var rows = preview.Rows;
        var fields = new List<InferredField>();
        var usedPaths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < preview.Columns.Count; i++)
        {
            var column = preview.Columns[i];
            var values = rows.Select(r => i < r.Count ? r[i] : null).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim()).ToList();
            var (type, reason) = parquetTypes is not null && parquetTypes.TryGetValue(column, out var dt) && FromDuckDb(dt) is { } t
                ? (t, $"The Parquet column is {dt}.")
                : FromText(values);
            var identity = IdentityFor(column, values);
            if (identity is not null)
            {
                reason = $"Looks like {(identity.Namespace == "CRMID" ? "a customer id" : identity.Namespace == "Email" ? "an e-mail address" : "a " + identity.Namespace)}: " +
                         $"suggested as a {identity.Namespace} identity (identities are stored as text).";
                type = FieldType.String;
            }
            fields.Add(new InferredField
            {
                Column = column,
                Path = UniquePath(ToPath(column), usedPaths),
                Type = type,
                Identity = identity,
                Reason = values.Count == 0 ? "No value in the sampled rows: stored as text." : reason,
                Examples = values.Distinct(StringComparer.Ordinal).Take(3).ToList(),
                Filled = rows.Count == 0 ? 0 : (double)values.Count / rows.Count,
            });
        }
        ChoosePrimary(fields, rows.Count);
        if (schemaClass == SchemaClass.Event) MarkEventFields(fields);
        return new InferredSchema(preview.Format, delimiter, rows.Count, fields, null);
    }

    /// <summary>One primary identity: the first customer id, else the first e-mail, else the first identity; required when every sampled row has it.</summary>
    private static void ChoosePrimary(List<InferredField> fields, int rows)
    {
        var candidates = fields.Where(f => f.Identity is not null).ToList();
        var primary = candidates.FirstOrDefault(f => f.Identity!.Namespace == "CRMID")
                      ?? candidates.FirstOrDefault(f => f.Identity!.Namespace == "Email")
                      ?? candidates.FirstOrDefault();
        if (primary is null) return;
        var i = fields.IndexOf(primary);
        fields[i] = primary with
        {
            Identity = primary.Identity! with { Primary = true },
            Required = rows > 0 && primary.Filled >= 1,
            Reason = primary.Reason + " Primary: every record of this schema carries it.",
        };
    }

    /// <summary>An event schema needs <c>timestamp</c> (datetime) and <c>eventType</c>: the column named so, else the first date/time column.</summary>
    private static void MarkEventFields(List<InferredField> fields)
    {
        var ts = fields.FindIndex(f => string.Equals(f.Path, SchemaDefinition.TimestampField, StringComparison.OrdinalIgnoreCase));
        if (ts < 0) ts = fields.FindIndex(f => f.Type == FieldType.DateTime);
        if (ts < 0) ts = fields.FindIndex(f => f.Type == FieldType.Date);
        if (ts >= 0 && !fields.Any(f => f.Path == SchemaDefinition.TimestampField && fields.IndexOf(f) != ts))
            fields[ts] = fields[ts] with { Path = SchemaDefinition.TimestampField, Type = FieldType.DateTime, Required = true, Reason = $"The event's time (from '{fields[ts].Column}')." };
        var et = fields.FindIndex(f => MappingSuggester.Key(f.Column) is "eventtype" or "event" or "type" or "action");
        if (et >= 0 && !fields.Any(f => f.Path == SchemaDefinition.EventTypeField && fields.IndexOf(f) != et))
            fields[et] = fields[et] with { Path = SchemaDefinition.EventTypeField, Type = FieldType.String, Required = true, Identity = null, Reason = $"What kind of event (from '{fields[et].Column}')." };
    }

    internal static IdentityMapping? IdentityFor(string column, IReadOnlyList<string> values)
    {
        var key = MappingSuggester.Key(column);
        if (key.Contains("email") || key == "mail" || (values.Count > 0 && values.Count(LooksLikeEmail) >= 0.9 * values.Count)) return new("Email");
        if (key.Contains("phone") || key.Contains("mobile") || key is "tel" or "telephone") return new("Phone");
        if (key is "ecid") return new("ECID");
        if (key.Contains("cookie")) return new("CookieID");
        if (key is "deviceid" or "device") return new("DeviceID");
        if (key is "crmid" or "customerid" or "custid" or "clientid" or "userid" or "memberid" or "personid" or "contactid" or "customerkey"
            || (key.EndsWith("customerid", StringComparison.Ordinal) && key.Length <= 14)) return new("CRMID");
        return null;
    }

    private static bool LooksLikeEmail(string v)
    {
        var at = v.IndexOf('@');
        return at > 0 && at == v.LastIndexOf('@') && v.IndexOf('.', at) > at + 1 && !v.Contains(' ') && !v.EndsWith('.');
    }

    /// <summary>The narrowest type all values coerce to as ingestion coerces text (<see cref="ValueCoercer"/>).</summary>
    internal static (FieldType Type, string Reason) FromText(IReadOnlyList<string> values)
    {
        if (values.Count == 0) return (FieldType.String, "No value in the sample.");
        if (values.All(v => v.ToLowerInvariant() is "true" or "false" or "yes" or "no"))
            return (FieldType.Boolean, "Every value is true/false or yes/no.");
        if (values.All(v => long.TryParse(v, NumberStyles.AllowLeadingSign, Inv, out _)))
        {
            if (values.Any(v => v.Length > 1 && (v[0] == '0' || v.StartsWith("-0", StringComparison.Ordinal))))
                return (FieldType.String, "Digits with leading zeros (a code, not an amount): stored as text to keep the zeros.");
            return (FieldType.Integer, "Every value is a whole number.");
        }
        if (values.All(v => double.TryParse(v, NumberStyles.Float, Inv, out var x) && double.IsFinite(x)))
            return (FieldType.Number, "Every value is a number.");
        if (values.All(v => DateOnly.TryParseExact(v, "yyyy-MM-dd", Inv, DateTimeStyles.None, out _)))
            return (FieldType.Date, "Every value is a date (yyyy-MM-dd).");
        if (values.All(LooksLikeDateTime))
            return values.Any(v => v.Contains(':'))
                ? (FieldType.DateTime, "Every value is a date and time.")
                : (FieldType.Date, "Every value is a date.");
        return (FieldType.String, "Text.");
    }

    private static bool LooksLikeDateTime(string v) =>
        v.Length >= 8 && (v.Contains('-') || v.Contains('/')) && char.IsDigit(v[0])
        && DateTimeOffset.TryParse(v, Inv, DateTimeStyles.AssumeUniversal, out _);

    internal static FieldType? FromDuckDb(string type)
    {
        var t = type.ToUpperInvariant();
        if (t.EndsWith("[]", StringComparison.Ordinal) || t.StartsWith("STRUCT", StringComparison.Ordinal) || t.StartsWith("MAP", StringComparison.Ordinal)) return null;
        if (t == "BOOLEAN") return FieldType.Boolean;
        if (t is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "HUGEINT") return FieldType.Integer;
        if (t is "FLOAT" or "DOUBLE" or "REAL" || t.StartsWith("DECIMAL", StringComparison.Ordinal)) return FieldType.Number;
        if (t == "DATE") return FieldType.Date;
        if (t.StartsWith("TIMESTAMP", StringComparison.Ordinal)) return FieldType.DateTime;
        return null; // VARCHAR and the rest: from the values
    }

    private static Dictionary<string, string> ParquetTypes(string path)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"DESCRIBE SELECT * FROM read_parquet('{path.Replace("'", "''")}')";
        using var r = cmd.ExecuteReader();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        while (r.Read()) types[r.GetString(0)] = r.GetString(1);
        return types;
    }

    /// <summary>A valid field path for a column: camelCase words per dotted segment (<c>Customer ID</c> -> <c>customerId</c>, <c>Sub-Category</c> -> <c>subCategory</c>).</summary>
    public static string ToPath(string column)
    {
        var segments = column.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(CamelSegment).Where(s => s.Length > 0).ToList();
        return segments.Count == 0 ? "column" : string.Join('.', segments);
    }

    private static string CamelSegment(string segment)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var ch in segment)
        {
            if (char.IsLetterOrDigit(ch) && ch < 128) current.Append(ch);
            else if (current.Length > 0) { words.Add(current.ToString()); current.Clear(); }
        }
        if (current.Length > 0) words.Add(current.ToString());
        if (words.Count == 0) return "";
        var sb = new StringBuilder();
        for (var i = 0; i < words.Count; i++)
        {
            var w = words[i];
            // An all-capitals word (ID, URL) reads as one word: Id, Url.
            var lower = w.All(c => !char.IsLower(c)) ? w.ToLowerInvariant() : char.ToLowerInvariant(w[0]) + w[1..];
            sb.Append(i == 0 ? lower : char.ToUpperInvariant(lower[0]) + lower[1..]);
        }
        var s = sb.ToString();
        return char.IsDigit(s[0]) ? "_" + s : s;
    }

    private static string UniquePath(string path, HashSet<string> used)
    {
        var candidate = path;
        for (var n = 2; !used.Add(candidate); n++) candidate = path + n;
        return candidate;
    }
}
