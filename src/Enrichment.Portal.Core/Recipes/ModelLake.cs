using System.Globalization;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>Small DuckDB helpers: read Parquet globs column-wise, describe their columns.</summary>
internal static class ModelLake
{
    public static DuckDBConnection Open()
    {
        var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SET threads TO 2;";
        cmd.ExecuteNonQuery();
        return c;
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
    public static string Literal(string s) => "'" + s.Replace("'", "''") + "'";
    public static string Ts(DateTime d) => "TIMESTAMP " + Literal(d.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));

    /// <summary><c>read_parquet([...], union_by_name = true)</c> of the globs.</summary>
    public static string ReadParquet(IReadOnlyList<string> globs)
    {
        if (globs.Count == 0) throw new ModelTrainingException("No Parquet source was given.");
        return "read_parquet([" + string.Join(", ", globs.Select(Literal)) + "], union_by_name = true)";
    }

    /// <summary>
    /// The Parquet source with one row per value of <paramref name="keyField"/>: the newest record (the last file in path
    /// order, i.e. the last batch, then the last row of it). Rows without a key are left out: no insight can be written back for them.
    /// </summary>
    public static string NewestPerKey(IReadOnlyList<string> globs, string keyField)
    {
        if (globs.Count == 0) throw new ModelTrainingException("No Parquet source was given.");
        var k = Quote(keyField);
        return "(SELECT * EXCLUDE (__ep_file, file_row_number) FROM read_parquet([" + string.Join(", ", globs.Select(Literal)) + "], union_by_name = true, filename = '__ep_file', file_row_number = true) " +
               $"WHERE {k} IS NOT NULL QUALIFY row_number() OVER (PARTITION BY CAST({k} AS VARCHAR) ORDER BY __ep_file DESC, file_row_number DESC) = 1)";
    }

    /// <summary>The columns and DuckDB types of the Parquet source.</summary>
    public static IReadOnlyList<(string Name, string Type)> Describe(DuckDBConnection c, IReadOnlyList<string> globs)
    {
        try
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DESCRIBE SELECT * FROM " + ReadParquet(globs);
            using var r = cmd.ExecuteReader();
            var list = new List<(string, string)>();
            while (r.Read()) list.Add((r.GetString(0), r.GetString(1)));
            return list;
        }
        catch (DuckDBException e)
        {
            throw new ModelTrainingException("Cannot read the Parquet source " + string.Join(", ", globs) + ": " + e.Message);
        }
    }

    /// <summary>Schema fields inferred from Parquet types (used when the caller gives none).</summary>
    public static IReadOnlyList<SchemaField> InferFields(DuckDBConnection c, IReadOnlyList<string> globs) =>
        Describe(c, globs).Select(col => new SchemaField { Path = col.Name, Type = FromDuckType(col.Type) }).ToArray();

    public static FieldType FromDuckType(string t)
    {
        t = t.ToUpperInvariant();
        if (t is "BOOLEAN") return FieldType.Boolean;
        if (t is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT" or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT") return FieldType.Integer;
        if (t is "FLOAT" or "DOUBLE" or "REAL" || t.StartsWith("DECIMAL", StringComparison.Ordinal)) return FieldType.Number;
        if (t is "DATE") return FieldType.Date;
        if (t.StartsWith("TIMESTAMP", StringComparison.Ordinal)) return FieldType.DateTime;
        if (t.EndsWith("[]", StringComparison.Ordinal)) return FieldType.Array;
        if (t.StartsWith("MAP", StringComparison.Ordinal)) return FieldType.Map;
        return FieldType.String;
    }

    /// <summary>Runs a query and returns its result column-wise (values as object?, DBNull as null).</summary>
    public static Table Query(DuckDBConnection c, string sql, CancellationToken ct = default)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        try
        {
            using var r = cmd.ExecuteReader();
            var names = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToArray();
            var cols = names.Select(_ => new List<object?>()).ToArray();
            var n = 0;
            while (r.Read())
            {
                if ((++n & 0xFFF) == 0) ct.ThrowIfCancellationRequested();
                for (var i = 0; i < cols.Length; i++) cols[i].Add(r.IsDBNull(i) ? null : r.GetValue(i));
            }
            return new Table(names, cols);
        }
        catch (DuckDBException e)
        {
            throw new ModelTrainingException("Query on the data lake failed: " + e.Message);
        }
    }

    public static void Execute(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static double? ToDouble(object? v) => v switch
    {
        null => null,
        double d => double.IsNaN(d) ? null : d,
        float f => float.IsNaN(f) ? null : f,
        bool b => b ? 1 : 0,
        string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
        DateTime or DateOnly or DateTimeOffset => null,
        IConvertible cv => cv.ToDouble(CultureInfo.InvariantCulture),
        _ => null,
    };

    public static DateTime? ToDate(object? v) => v switch
    {
        null => null,
        DateTime d => d,
        DateOnly d => d.ToDateTime(TimeOnly.MinValue),
        DateTimeOffset d => d.UtcDateTime,
        string s => DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) ? d : null,
        _ => null,
    };

    public static string? ToText(object? v) => v switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString(),
    };
}

/// <summary>A query result held column-wise.</summary>
internal sealed class Table(string[] names, List<object?>[] columns)
{
    public string[] Names { get; } = names;
    public int Rows => columns.Length == 0 ? 0 : columns[0].Count;
    public List<object?> Column(string name)
    {
        var i = Array.IndexOf(Names, name);
        if (i < 0) throw new ModelTrainingException($"Column '{name}' is not in the data.");
        return columns[i];
    }
    public bool Has(string name) => Array.IndexOf(Names, name) >= 0;
    public IReadOnlyDictionary<string, object?> Row(int r)
    {
        var d = new Dictionary<string, object?>(Names.Length, StringComparer.Ordinal);
        for (var i = 0; i < Names.Length; i++) d[Names[i]] = columns[i][r];
        return d;
    }
}
