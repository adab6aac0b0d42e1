using System.Globalization;
using System.Text.Json;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// Turns a raw cell (CSV text, a <see cref="JsonElement"/>, or a CLR value read from Parquet) into the CLR value of a
/// field type: string, long (integer), double (number), bool, DateOnly (date), DateTime UTC (datetime), and JSON text
/// for array, map and object. Blank text in a non-string field is null.
/// </summary>
public sealed class ValueCoercer(string? dateFormat = null, string? timestampFormat = null)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] IsoDateTimes =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd",
    ];

    /// <summary>Coerces <paramref name="raw"/>; on failure returns false with a message (the caller reports TYPE_MISMATCH).</summary>
    public bool TryCoerce(object? raw, SchemaField field, out object? value, out string? error)
    {
        value = null;
        error = null;
        if (raw is null) return true;
        if (raw is JsonElement je) return FromJson(je, field, out value, out error);
        if (raw is string s) return FromText(s, field.Type, field.ItemType ?? field.ValueType, out value, out error);
        return FromClr(raw, field, out value, out error);
    }

    private bool FromText(string s, FieldType type, FieldType? inner, out object? value, out string? error)
    {
        value = null;
        error = null;
        if (type == FieldType.String) { value = s; return true; }
        var t = s.AsSpan().Trim();
        if (t.IsEmpty) return true;
        switch (type)
        {
            case FieldType.Integer:
                if (long.TryParse(t, NumberStyles.AllowLeadingSign, Inv, out var l)) { value = l; return true; }
                if (decimal.TryParse(t, NumberStyles.Float, Inv, out var d) && d == decimal.Truncate(d) && d is >= long.MinValue and <= long.MaxValue)
                { value = (long)d; return true; }
                error = "not an integer";
                return false;
            case FieldType.Number:
                if (double.TryParse(t, NumberStyles.Float, Inv, out var x) && double.IsFinite(x)) { value = x; return true; }
                error = "not a number";
                return false;
            case FieldType.Boolean:
                var b = ParseBool(t);
                if (b is not null) { value = b; return true; }
                error = "not a boolean (true/false, 1/0, yes/no)";
                return false;
            case FieldType.Date:
                if (TryDate(t, out var date)) { value = date; return true; }
                error = dateFormat is null ? "not a date (yyyy-MM-dd)" : $"not a date in format {dateFormat}";
                return false;
            case FieldType.DateTime:
                if (TryTimestamp(t, out var ts)) { value = ts; return true; }
                error = timestampFormat is null ? "not a timestamp (ISO 8601)" : $"not a timestamp in format {timestampFormat}";
                return false;
            case FieldType.Array or FieldType.Map or FieldType.Object:
                try
                {
                    using var doc = JsonDocument.Parse(t.ToString());
                    return FromJson(doc.RootElement, new SchemaField { Path = "", Type = type, ItemType = inner, ValueType = inner }, out value, out error);
                }
                catch (JsonException)
                {
                    error = $"not a JSON {type.ToString().ToLowerInvariant()}";
                    return false;
                }
            default:
                value = s;
                return true;
        }
    }

    private bool FromJson(JsonElement e, SchemaField field, out object? value, out string? error)
    {
        value = null;
        error = null;
        switch (e.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return true;
            case JsonValueKind.String:
                return FromText(e.GetString()!, field.Type, field.ItemType ?? field.ValueType, out value, out error);
        }
        switch (field.Type)
        {
            case FieldType.String when e.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                value = e.GetRawText();
                return true;
            case FieldType.Integer when e.ValueKind == JsonValueKind.Number:
                if (e.TryGetInt64(out var l)) { value = l; return true; }
                if (e.TryGetDecimal(out var d) && d == decimal.Truncate(d) && d is >= long.MinValue and <= long.MaxValue) { value = (long)d; return true; }
                break;
            case FieldType.Number when e.ValueKind == JsonValueKind.Number:
                value = e.GetDouble();
                return true;
            case FieldType.Boolean when e.ValueKind is JsonValueKind.True or JsonValueKind.False:
                value = e.GetBoolean();
                return true;
            case FieldType.DateTime when e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var ms):
                if (ms is >= -62135596800000 and <= 253402300799999) { value = DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime; return true; }
                break;
            case FieldType.Array when e.ValueKind == JsonValueKind.Array:
                if (field.ItemType is { } it and not FieldType.Object)
                {
                    var itemField = new SchemaField { Path = field.Path, Type = it };
                    var i = 0;
                    foreach (var item in e.EnumerateArray())
                    {
                        if (!FromJson(item, itemField, out _, out var ie)) { error = $"item {i}: {ie}"; return false; }
                        i++;
                    }
                }
                value = e.GetRawText();
                return true;
            case FieldType.Map when e.ValueKind == JsonValueKind.Object:
                if (field.ValueType is { } vt and not FieldType.Object)
                {
                    var valueField = new SchemaField { Path = field.Path, Type = vt };
                    foreach (var p in e.EnumerateObject())
                        if (!FromJson(p.Value, valueField, out _, out var ve)) { error = $"key '{p.Name}': {ve}"; return false; }
                }
                value = e.GetRawText();
                return true;
            case FieldType.Object when e.ValueKind == JsonValueKind.Object:
                value = e.GetRawText();
                return true;
        }
        error = $"expected {field.Type.ToString().ToLowerInvariant()}, found JSON {e.ValueKind.ToString().ToLowerInvariant()}";
        return false;
    }

    private bool FromClr(object raw, SchemaField field, out object? value, out string? error)
    {
        value = null;
        error = null;
        switch (field.Type, raw)
        {
            case (FieldType.String, _):
                value = Convert.ToString(raw, Inv);
                return true;
            case (FieldType.Integer, long or int or short or byte or sbyte or ushort or uint):
                value = Convert.ToInt64(raw, Inv);
                return true;
            case (FieldType.Integer, double or float or decimal or ulong or System.Numerics.BigInteger):
                var s = Convert.ToString(raw, Inv)!;
                return FromText(s, field.Type, null, out value, out error);
            case (FieldType.Number, long or int or short or byte or sbyte or ushort or uint or ulong or double or float or decimal):
                value = Convert.ToDouble(raw, Inv);
                return true;
            case (FieldType.Boolean, bool):
                value = raw;
                return true;
            case (FieldType.Date, DateOnly):
                value = raw;
                return true;
            case (FieldType.Date, DateTime dt):
                value = DateOnly.FromDateTime(dt);
                return true;
            case (FieldType.DateTime, DateTime dt):
                value = dt.Kind == DateTimeKind.Local ? dt.ToUniversalTime() : DateTime.SpecifyKind(dt, DateTimeKind.Utc);
                return true;
            case (FieldType.DateTime, DateTimeOffset dto):
                value = dto.UtcDateTime;
                return true;
            case (FieldType.DateTime, DateOnly d):
                value = d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
                return true;
        }
        return FromText(Convert.ToString(raw, Inv) ?? "", field.Type, field.ItemType ?? field.ValueType, out value, out error);
    }

    private static bool? ParseBool(ReadOnlySpan<char> t)
    {
        if (t.Equals("true", StringComparison.OrdinalIgnoreCase) || t is "1" || t.Equals("yes", StringComparison.OrdinalIgnoreCase)
            || t.Equals("y", StringComparison.OrdinalIgnoreCase) || t.Equals("t", StringComparison.OrdinalIgnoreCase)) return true;
        if (t.Equals("false", StringComparison.OrdinalIgnoreCase) || t is "0" || t.Equals("no", StringComparison.OrdinalIgnoreCase)
            || t.Equals("n", StringComparison.OrdinalIgnoreCase) || t.Equals("f", StringComparison.OrdinalIgnoreCase)) return false;
        return null;
    }

    /// <summary>Fast path for <c>yyyy-MM-dd HH:mm:ss</c> and <c>yyyy-MM-ddTHH:mm:ss</c> (no offset: UTC).</summary>
    private static bool TryFastIso(ReadOnlySpan<char> t, out DateTime ts)
    {
        ts = default;
        if (t.Length != 19 || t[4] != '-' || t[7] != '-' || (t[10] != ' ' && t[10] != 'T') || t[13] != ':' || t[16] != ':') return false;
        if (!int.TryParse(t[..4], NumberStyles.None, Inv, out var y) || !int.TryParse(t[5..7], NumberStyles.None, Inv, out var mo)
            || !int.TryParse(t[8..10], NumberStyles.None, Inv, out var d) || !int.TryParse(t[11..13], NumberStyles.None, Inv, out var h)
            || !int.TryParse(t[14..16], NumberStyles.None, Inv, out var mi) || !int.TryParse(t[17..19], NumberStyles.None, Inv, out var s)) return false;
        if (y < 1 || mo is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return false;
        ts = new DateTime(y, mo, d, h, mi, s, DateTimeKind.Utc);
        return true;
    }

    private bool TryDate(ReadOnlySpan<char> t, out DateOnly date)
    {
        if (dateFormat is not null) return DateOnly.TryParseExact(t, dateFormat, Inv, DateTimeStyles.AllowWhiteSpaces, out date);
        if (DateOnly.TryParseExact(t, "yyyy-MM-dd", Inv, DateTimeStyles.None, out date)) return true;
        if (DateTime.TryParse(t, Inv, DateTimeStyles.AllowWhiteSpaces, out var dt)) { date = DateOnly.FromDateTime(dt); return true; }
        return false;
    }

    private bool TryTimestamp(ReadOnlySpan<char> t, out DateTime ts)
    {
        const DateTimeStyles utc = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;
        if (timestampFormat is not null) return DateTime.TryParseExact(t, timestampFormat, Inv, utc | DateTimeStyles.AllowWhiteSpaces, out ts);
        if (TryFastIso(t, out ts)) return true;
        if (DateTime.TryParseExact(t, IsoDateTimes, Inv, utc, out ts)) return true;
        if (DateTimeOffset.TryParse(t, Inv, DateTimeStyles.AssumeUniversal, out var dto)) { ts = dto.UtcDateTime; return true; }
        return false;
    }
}
