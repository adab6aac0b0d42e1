using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Query;

/// <summary>Maps DuckDB SQL type names to the portal's <see cref="FieldType"/>.</summary>
public static class DuckDbTypes
{
    /// <summary>
    /// BOOLEAN -> boolean; integer types (signed, unsigned, HUGEINT) -> integer; FLOAT/DOUBLE/DECIMAL -> number;
    /// DATE -> date; TIMESTAMP* -> datetime; <c>T[]</c>/<c>T[n]</c> -> array of T; MAP(K, V) -> map of V;
    /// STRUCT -> object; everything else (VARCHAR, UUID, TIME, INTERVAL, BLOB, ENUM...) -> string.
    /// </summary>
    public static (FieldType Type, FieldType? ItemType, FieldType? ValueType) ToFieldType(string duckDbType)
    {
        ArgumentNullException.ThrowIfNull(duckDbType);
        var type = duckDbType.Trim().ToUpperInvariant();
        if (type.EndsWith(']'))
        {
            var open = type.LastIndexOf('[');
            var (item, _, _) = ToFieldType(type[..open]);
            return (FieldType.Array, item, null);
        }
        if (type.StartsWith("MAP(", StringComparison.Ordinal))
        {
            var inner = type[4..^1];
            var split = TopLevelComma(inner);
            var (value, _, _) = ToFieldType(split < 0 ? "VARCHAR" : inner[(split + 1)..]);
            return (FieldType.Map, null, value);
        }
        if (type.StartsWith("STRUCT", StringComparison.Ordinal) || type.StartsWith("UNION", StringComparison.Ordinal))
            return (FieldType.Object, null, null);
        return (Scalar(type), null, null);
    }

    /// <summary>True for DuckDB numeric types (integers, floats, decimals).</summary>
    public static bool IsNumeric(string duckDbType) => ToFieldType(duckDbType).Type is FieldType.Integer or FieldType.Number;

    private static FieldType Scalar(string type)
    {
        var paren = type.IndexOf('(');
        var name = paren < 0 ? type : type[..paren];
        return name switch
        {
            "BOOLEAN" or "BOOL" => FieldType.Boolean,
            "TINYINT" or "SMALLINT" or "INTEGER" or "INT" or "BIGINT" or "HUGEINT" or "UTINYINT" or "USMALLINT"
                or "UINTEGER" or "UBIGINT" or "UHUGEINT" or "INT1" or "INT2" or "INT4" or "INT8" => FieldType.Integer,
            "FLOAT" or "REAL" or "DOUBLE" or "DECIMAL" or "NUMERIC" => FieldType.Number,
            "DATE" => FieldType.Date,
            _ when name.StartsWith("TIMESTAMP", StringComparison.Ordinal) => FieldType.DateTime,
            _ => FieldType.String,
        };
    }

    private static int TopLevelComma(string text)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(': depth++; break;
                case ')': depth--; break;
                case ',' when depth == 0: return i;
            }
        }
        return -1;
    }
}
