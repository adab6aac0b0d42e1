using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>Conversions between record values (DuckDB / in-memory) and the JSON kept by the profile store.</summary>
internal static class ProfileValues
{
    public static JsonNode? ToJson(object? v) => v switch
    {
        null or DBNull => null,
        JsonNode n => n.DeepClone(),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        short s => JsonValue.Create(s),
        byte b => JsonValue.Create(b),
        sbyte b => JsonValue.Create(b),
        uint u => JsonValue.Create(u),
        ulong u => JsonValue.Create(u),
        ushort u => JsonValue.Create(u),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : null,
        float f => float.IsFinite(f) ? JsonValue.Create(f) : null,
        decimal m => JsonValue.Create(m),
        System.Numerics.BigInteger bi => JsonValue.Create((decimal)bi),
        DateTime dt => JsonValue.Create(AsUtc(dt).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)),
        DateTimeOffset dto => JsonValue.Create(dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)),
        DateOnly d => JsonValue.Create(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
        TimeOnly t => JsonValue.Create(t.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)),
        Guid g => JsonValue.Create(g.ToString()),
        IDictionary dict => DictToJson(dict),
        IEnumerable e => new JsonArray(e.Cast<object?>().Select(ToJson).ToArray()),
        _ => JsonValue.Create(Convert.ToString(v, CultureInfo.InvariantCulture)),
    };

    private static JsonObject DictToJson(IDictionary dict)
    {
        var o = new JsonObject();
        foreach (DictionaryEntry kv in dict)
            o[Convert.ToString(kv.Key, CultureInfo.InvariantCulture) ?? ""] = ToJson(kv.Value);
        return o;
    }

    public static DateTime AsUtc(DateTime dt) => dt.Kind switch
    {
        DateTimeKind.Utc => dt,
        DateTimeKind.Local => dt.ToUniversalTime(),
        _ => DateTime.SpecifyKind(dt, DateTimeKind.Utc),
    };

    /// <summary>The string form of an identity value (integral numbers without decimals).</summary>
    public static string? IdentityString(object? v) => v switch
    {
        null or DBNull => null,
        string s => s,
        double d when double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 1e17 => ((long)d).ToString(CultureInfo.InvariantCulture),
        float f when float.IsFinite(f) && f == MathF.Floor(f) && Math.Abs(f) < 1e15 => ((long)f).ToString(CultureInfo.InvariantCulture),
        decimal m when m == decimal.Truncate(m) => decimal.Truncate(m).ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString(),
    };

    public static DateTimeOffset? ToTime(object? v) => v switch
    {
        DateTime dt => new DateTimeOffset(AsUtc(dt)),
        DateTimeOffset dto => dto.ToUniversalTime(),
        DateOnly d => new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)),
        string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var p) => p.ToUniversalTime(),
        _ => null,
    };

    /// <summary>Adds the attribute units of one field value: a map field gives one unit per key (so maps merge key-wise).</summary>
    public static void AddUnits(Dictionary<string, JsonNode?> units, SchemaField field, object? value)
    {
        if (value is null or DBNull) return;
        if (field.Type == FieldType.Map)
        {
            JsonNode? node = value is string s ? TryParse(s) : ToJson(value);
            if (node is JsonObject obj)
            {
                foreach (var (k, v) in obj)
                    if (v is not null) units[field.Path + "." + k] = v.DeepClone();
                return;
            }
            if (node is not null) units[field.Path] = node;
            return;
        }
        if (field.Type == FieldType.Array && value is string arr && TryParse(arr) is JsonArray ja)
        {
            units[field.Path] = ja;
            return;
        }
        var j = ToJson(value);
        if (j is not null) units[field.Path] = j;
    }

    public static JsonNode? TryParse(string s)
    {
        try { return JsonNode.Parse(s); }
        catch (JsonException) { return JsonValue.Create(s); }
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? serializeBuffer;

    /// <summary>One flat JSON object from the entries (null values as JSON null), written into a per-thread buffer.</summary>
    private static string WriteObject<T>(Dictionary<string, T?> flat, Action<Utf8JsonWriter, T> writeValue, bool sorted = false) where T : class
    {
        var buffer = serializeBuffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (sorted)
            {
                var keys = new string[flat.Count];
                flat.Keys.CopyTo(keys, 0);
                Array.Sort(keys, StringComparer.Ordinal);
                foreach (var k in keys) Write(k, flat[k]);
            }
            else foreach (var (k, v) in flat) Write(k, v);
            w.WriteEndObject();

            void Write(string k, T? v)
            {
                w.WritePropertyName(k);
                if (v is null) w.WriteNullValue();
                else writeValue(w, v);
            }
        }
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20) serializeBuffer = null;
        return text;
    }

    public static Dictionary<string, JsonNode?> ParseFlat(string? json)
    {
        var d = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(json)) return d;
        if (JsonNode.Parse(json) is JsonObject o)
        {
            foreach (var (k, v) in o) d[k] = v;
            o.Clear(); // detaches the values from the parsed object: no deep copies needed
        }
        return d;
    }

    /// <summary>A flat JSON object as raw JSON text per key (null for a JSON null), in document order, without building
    /// nodes: the profile stage only moves values between fragments and the merged profile, so it never needs them.
    /// Keys are unescaped like <see cref="ParseFlat"/>; a repeated key keeps its last value, like ParseFlat.</summary>
    public static Dictionary<string, string?> ParseRaw(string? json)
    {
        var d = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(json)) return d;
        var max = Encoding.UTF8.GetMaxByteCount(json.Length);
        var rented = max <= 1 << 14 ? null : ArrayPool<byte>.Shared.Rent(max);
        Span<byte> bytes = rented ?? stackalloc byte[Math.Min(max, 1 << 14)];
        try
        {
            var n = Encoding.UTF8.GetBytes(json, bytes);
            var utf8 = bytes[..n];
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                // Not an object: ParseFlat gives an empty dictionary (after checking it is valid JSON).
                JsonNode.Parse(json);
                return d;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) { d[key] = null; continue; }
                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                var end = (int)reader.BytesConsumed;
                d[key] = Encoding.UTF8.GetString(utf8[start..end]);
            }
            return d;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Raw JSON values (from <see cref="ParseRaw"/> or <c>JsonNode.ToJsonString()</c>) as one object; gives the same
    /// text as <c>JsonObject.ToJsonString()</c> of the parsed values for JSON this store wrote.</summary>
    public static string SerializeRaw(Dictionary<string, string?> flat)
        => WriteObject(flat, static (w, v) => w.WriteRawValue(v, skipInputValidation: true));

    /// <summary>The merged profile's form: keys in ordinal order, so that the text depends only on the content (a full
    /// re-merge and an incremental patch of the same content give the same text).</summary>
    public static string SerializeRawSorted(Dictionary<string, string?> flat)
        => WriteObject(flat, static (w, v) => w.WriteRawValue(v, skipInputValidation: true), sorted: true);

    /// <summary>
    /// A flat JSON object whose keys are in ordinal order (as <see cref="SerializeRawSorted"/> writes them) with the given
    /// entries set: each is replaced or inserted at its place, every other entry is copied as it is, without parsing values.
    /// The text equals <see cref="SerializeRawSorted"/> of the parsed object with the entries set. <paramref name="changes"/>
    /// are raw JSON values sorted by key (ordinal, no duplicates). Returns null when the object's keys are not strictly
    /// ascending (e.g. written by an older version): the caller then parses and re-serializes it.
    /// </summary>
    public static string? PatchSorted(string? json, IReadOnlyList<KeyValuePair<string, string>> changes)
    {
        if (string.IsNullOrEmpty(json)) return null;
        var max = Encoding.UTF8.GetMaxByteCount(json.Length);
        var rented = max <= 1 << 13 ? null : ArrayPool<byte>.Shared.Rent(max);
        Span<byte> bytes = rented ?? stackalloc byte[1 << 13];
        var buffer = serializeBuffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        try
        {
            var utf8 = bytes[..Encoding.UTF8.GetBytes(json, bytes)];
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                var ci = 0;
                string? previous = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var key = reader.GetString()!;
                    if (previous is not null && string.CompareOrdinal(previous, key) >= 0) return null;
                    previous = key;
                    while (ci < changes.Count && string.CompareOrdinal(changes[ci].Key, key) < 0) Write(changes[ci++]);
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                    if (ci < changes.Count && changes[ci].Key == key) { Write(changes[ci++]); continue; }
                    w.WritePropertyName(key);
                    if (reader.TokenType == JsonTokenType.Null) w.WriteNullValue();
                    else w.WriteRawValue(utf8[start..(int)reader.BytesConsumed], skipInputValidation: true);
                }
                while (ci < changes.Count) Write(changes[ci++]);
                w.WriteEndObject();

                void Write(KeyValuePair<string, string> change)
                {
                    w.WritePropertyName(change.Key);
                    w.WriteRawValue(change.Value, skipInputValidation: true);
                }
            }
            var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
            if (buffer.Capacity > 1 << 20) serializeBuffer = null;
            return text;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }


    /// <summary>Builds a nested object from dotted paths (<c>person.name</c> -> <c>{ person: { name } }</c>).</summary>
    public static JsonObject Nest(IEnumerable<KeyValuePair<string, JsonNode?>> flat)
    {
        var root = new JsonObject();
        foreach (var (path, value) in flat.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var parts = path.Split('.');
            var cur = root;
            var ok = true;
            for (var i = 0; i < parts.Length - 1 && ok; i++)
            {
                if (cur[parts[i]] is JsonObject next) cur = next;
                else if (cur.ContainsKey(parts[i])) ok = false;
                else { next = new JsonObject(); cur[parts[i]] = next; cur = next; }
            }
            if (!ok) continue;
            var leaf = parts[^1];
            if (cur[leaf] is JsonObject existing && value is JsonObject add)
                foreach (var (k, v) in add) existing[k] = v?.DeepClone();
            else cur[leaf] = value?.DeepClone();
        }
        return root;
    }
}

/// <summary>One dataset's attributes for one identity-of-record, as merge input.</summary>
public sealed record FragmentData(string DatasetId, string RecordKey, DateTimeOffset WrittenAt, IReadOnlyDictionary<string, JsonNode?> Attributes);

/// <summary>The result of a merge: flat attributes by dotted path and the dataset each came from.</summary>
public sealed record MergedAttributes(Dictionary<string, JsonNode?> Values, Dictionary<string, string> Provenance, DateTimeOffset? UpdatedAt);

/// <summary>Merges fragments into one profile by a merge policy. Attributes merge unit-wise (map entries key-wise).</summary>
public static class AttributeMerger
{
    public static MergedAttributes Merge(IEnumerable<FragmentData> fragments, string method, IReadOnlyList<string>? datasetOrder)
    {
        var (values, prov, updated) = Merge(fragments.ToList(), f => f.DatasetId, f => f.RecordKey, f => f.WrittenAt, f => f.Attributes, method, datasetOrder);
        return new MergedAttributes(values, prov, updated);
    }

    /// <summary>The merge over any fragment shape and value type (null values are skipped): the profile stage merges raw JSON text.</summary>
    internal static (Dictionary<string, TValue> Values, Dictionary<string, string> Provenance, DateTimeOffset? UpdatedAt) Merge<TFragment, TValue>(
        List<TFragment> list, Func<TFragment, string> datasetId, Func<TFragment, string> recordKey, Func<TFragment, DateTimeOffset> writtenAt,
        Func<TFragment, IEnumerable<KeyValuePair<string, TValue>>> attributes, string method, IReadOnlyList<string>? datasetOrder)
    {
        IEnumerable<TFragment> ordered;
        if (list.Count <= 1) ordered = list;
        else if (list.Count <= 8)
        {
            // A few fragments (the usual case): a stable insertion sort by the same keys as the OrderBy chains below.
            int Compare(TFragment a, TFragment b) =>
                CompareOrder(method, datasetOrder, datasetId(a), writtenAt(a), recordKey(a), datasetId(b), writtenAt(b), recordKey(b));
            var sorted = new List<TFragment>(list);
            for (var i = 1; i < sorted.Count; i++)
            {
                var x = sorted[i];
                var j = i - 1;
                while (j >= 0 && Compare(sorted[j], x) > 0) { sorted[j + 1] = sorted[j]; j--; }
                sorted[j + 1] = x;
            }
            ordered = sorted;
        }
        else if (method == MergeMethods.DatasetPrecedence)
        {
            var order = datasetOrder ?? [];
            int Rank(string d) { var i = IndexOf(order, d); return i < 0 ? int.MaxValue : i; }
            // Lowest priority first, so that higher-priority datasets overwrite; within a rank, newest last.
            ordered = list.OrderByDescending(f => Rank(datasetId(f))).ThenBy(writtenAt).ThenBy(datasetId, StringComparer.Ordinal).ThenBy(recordKey, StringComparer.Ordinal);
        }
        else
        {
            ordered = list.OrderBy(writtenAt).ThenBy(datasetId, StringComparer.Ordinal).ThenBy(recordKey, StringComparer.Ordinal);
        }
        var values = new Dictionary<string, TValue>(StringComparer.Ordinal);
        var prov = new Dictionary<string, string>(StringComparer.Ordinal);
        DateTimeOffset? updated = null;
        foreach (var f in ordered)
        {
            var w = writtenAt(f);
            if (updated is null || w > updated) updated = w;
            var ds = datasetId(f);
            foreach (var (k, v) in attributes(f))
            {
                if (v is null) continue;
                values[k] = v;
                prov[k] = ds;
            }
        }
        return (values, prov, updated);
    }

    /// <summary>The merge order of two fragments (negative: <c>a</c> is applied before <c>b</c>, so <c>b</c>'s values win):
    /// by dataset rank under dataset precedence (lower priority first), then written time, dataset id and record key.</summary>
    internal static int CompareOrder(string method, IReadOnlyList<string>? datasetOrder,
        string datasetA, DateTimeOffset writtenA, string recordKeyA, string datasetB, DateTimeOffset writtenB, string recordKeyB)
    {
        if (method == MergeMethods.DatasetPrecedence)
        {
            var order = datasetOrder ?? [];
            int Rank(string d) { var i = IndexOf(order, d); return i < 0 ? int.MaxValue : i; }
            var c = Rank(datasetB).CompareTo(Rank(datasetA));
            if (c != 0) return c;
        }
        var t = writtenA.CompareTo(writtenB);
        if (t != 0) return t;
        var d = string.CompareOrdinal(datasetA, datasetB);
        return d != 0 ? d : string.CompareOrdinal(recordKeyA, recordKeyB);
    }

    private static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (var i = 0; i < list.Count; i++) if (list[i] == item) return i;
        return -1;
    }
}
