using System.Collections;
using System.Globalization;
using System.Numerics;

namespace Enrichment.Portal.Core.Query;

/// <summary>Converts DuckDB.NET values into values System.Text.Json writes as plain JSON.</summary>
public static class JsonFriendly
{
    /// <summary>Converts one value (see <see cref="QueryResult"/> for the mapping).</summary>
    public static object? Convert(object? value) => value switch
    {
        null or DBNull => null,
        string or bool or int or long or short or byte or sbyte or ushort or uint or ulong => value,
        double d => double.IsFinite(d) ? d : d.ToString(CultureInfo.InvariantCulture),
        float f => float.IsFinite(f) ? (double)f : f.ToString(CultureInfo.InvariantCulture),
        decimal m => (double)m,
        BigInteger b => b >= long.MinValue && b <= long.MaxValue ? (long)b : b.ToString(CultureInfo.InvariantCulture),
        Int128 i => i >= long.MinValue && i <= long.MaxValue ? (long)i : i.ToString(CultureInfo.InvariantCulture),
        UInt128 u => u <= long.MaxValue ? (long)u : u.ToString(CultureInfo.InvariantCulture),
        DateTime dt => dt.ToString(dt.Kind == DateTimeKind.Utc ? "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset dto => dto.ToString("o", CultureInfo.InvariantCulture),
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly time => time.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        Guid g => g.ToString(),
        byte[] bytes => System.Convert.ToBase64String(bytes),
        Stream stream => ReadBase64(stream),
        Enum e => e.ToString(),
        IDictionary dict => ConvertDictionary(dict),
        IEnumerable list => list.Cast<object?>().Select(Convert).ToList(),
        _ => value.ToString(),
    };

    private static Dictionary<string, object?> ConvertDictionary(IDictionary dict)
    {
        var result = new Dictionary<string, object?>(dict.Count, StringComparer.Ordinal);
        foreach (DictionaryEntry entry in dict)
            result[System.Convert.ToString(Convert(entry.Key), CultureInfo.InvariantCulture) ?? ""] = Convert(entry.Value);
        return result;
    }

    private static string ReadBase64(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return System.Convert.ToBase64String(buffer.ToArray());
    }
}
