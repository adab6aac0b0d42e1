using System.Globalization;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Lake;

/// <summary>DuckDB helpers shared by the lake writers and readers.</summary>
internal static class DuckDbLake
{
    public static DuckDBConnection Open(string? tempDirectory = null, string memoryLimit = "400MB")
    {
        var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        var sql = $"SET memory_limit='{memoryLimit}'; SET preserve_insertion_order=true;";
        if (tempDirectory is not null) sql += $" SET temp_directory='{Esc(tempDirectory)}';";
        Exec(c, sql);
        return c;
    }

    public static void Exec(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static object? Scalar(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    /// <summary>Escapes a string literal's content.</summary>
    public static string Esc(string s) => s.Replace("'", "''");

    /// <summary>Quotes an identifier (the dotted field path is the column name).</summary>
    public static string Id(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";

    /// <summary>The Parquet/DuckDB column type of a field: arrays, maps and objects are stored as JSON text.</summary>
    public static string SqlType(FieldType t) => t switch
    {
        FieldType.Integer => "BIGINT",
        FieldType.Number => "DOUBLE",
        FieldType.Boolean => "BOOLEAN",
        FieldType.Date => "DATE",
        FieldType.DateTime => "TIMESTAMP",
        _ => "VARCHAR",
    };

    public static string CreateTableSql(string table, SchemaDefinition schema) =>
        $"CREATE TABLE {table} (" + string.Join(", ", schema.Fields.Select(f => Id(f.Path) + " " + SqlType(f.Type))) + ")";

    public static void AppendTyped(IDuckDBAppenderRow row, object? v)
    {
        switch (v)
        {
            case null: row.AppendNullValue(); break;
            case string s: row.AppendValue(s); break;
            case long l: row.AppendValue((long?)l); break;
            case double d: row.AppendValue((double?)d); break;
            case bool b: row.AppendValue((bool?)b); break;
            case DateOnly d: row.AppendValue((DateOnly?)d); break;
            case DateTime dt: row.AppendValue((DateTime?)dt); break;
            case int i: row.AppendValue((long?)i); break;
            case float f: row.AppendValue((double?)f); break;
            case decimal m: row.AppendValue((double?)(double)m); break;
            default: row.AppendValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
        }
    }
}
