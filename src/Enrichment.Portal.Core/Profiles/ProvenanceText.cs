using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>
/// The stored provenance of a merged profile (which dataset provided each attribute path), grouped by dataset:
/// <c>{"&lt;datasetId&gt;":["path",...],...}</c>, datasets and paths in ordinal order, so the text depends only on the
/// content. Each dataset id is written once instead of once per path (the scoring benchmark's profiles, 23 paths from two
/// datasets with the portal's 26-character ids: 292 bytes instead of 897). The older flat form <c>{"path":"datasetId"}</c> is
/// still read; it is rewritten grouped the next time the profile changes.
/// </summary>
internal static class ProvenanceText
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? buffer;

    /// <summary>path -> dataset id, from either form.</summary>
    public static Dictionary<string, string> Parse(string? json)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(json)) return d;
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("Provenance must be a JSON object.");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String) { d[key] = reader.GetString()!; continue; } // flat form: path -> dataset
            if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException($"Provenance of '{key}' must be a string or an array of paths.");
            while (reader.Read() && reader.TokenType == JsonTokenType.String) d[reader.GetString()!] = key;
        }
        return d;
    }

    /// <summary>The grouped form of path -> dataset id.</summary>
    public static string Write(Dictionary<string, string> flat)
    {
        var groups = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (path, dataset) in flat)
        {
            if (!groups.TryGetValue(dataset, out var paths)) groups[dataset] = paths = [];
            paths.Add(path);
        }
        return WriteWith(w =>
        {
            foreach (var (dataset, paths) in groups)
            {
                paths.Sort(StringComparer.Ordinal);
                w.WritePropertyName(dataset);
                w.WriteStartArray();
                foreach (var p in paths) w.WriteStringValue(p);
                w.WriteEndArray();
            }
        });
    }

    /// <summary>The paths among <paramref name="paths"/> that the provenance attributes to a dataset other than
    /// <paramref name="datasetId"/> (null: none), from either form, in one reader pass without building the dictionary.</summary>
    public static List<string>? OtherProviders(string? json, IReadOnlyList<string> paths, string datasetId)
    {
        if (string.IsNullOrEmpty(json) || paths.Count == 0) return null;
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var reader = new Utf8JsonReader(rented.AsSpan(0, Encoding.UTF8.GetBytes(json, rented)));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("Provenance must be a JSON object.");
            List<string>? found = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var ownGroup = reader.ValueTextEquals(datasetId);
                var match = Match(ref reader, paths);
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    // Flat form: the property is the path, the value the dataset.
                    if (match is not null && !reader.ValueTextEquals(datasetId)) (found ??= []).Add(match);
                    continue;
                }
                if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("Provenance values must be strings or arrays of paths.");
                while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    if (!ownGroup && Match(ref reader, paths) is { } p && !(found ??= []).Contains(p)) found.Add(p);
            }
            return found;
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>
    /// The grouped text with <paramref name="sortedPaths"/> (ordinal order, no duplicates) now provided by
    /// <paramref name="datasetId"/>: they join its group and leave the others (a group left empty goes); everything else
    /// is copied as it is. Equal to <see cref="Write"/> of the parsed dictionary with those paths set. Null when the text is
    /// not the grouped form in ordinal order (the caller then parses and rewrites it).
    /// </summary>
    public static string? Patch(string? json, IReadOnlyList<string> sortedPaths, string datasetId)
    {
        if (string.IsNullOrEmpty(json)) return null;
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        var b = buffer ??= new ArrayBufferWriter<byte>(1024);
        b.ResetWrittenCount();
        try
        {
            ReadOnlySpan<byte> utf8 = rented.AsSpan(0, Encoding.UTF8.GetBytes(json, rented));
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            using (var w = new Utf8JsonWriter(b))
            {
                w.WriteStartObject();
                var ownWritten = false;
                string? previous = null;
                var kept = new List<(int Start, int End, string? Path)>();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var dataset = reader.GetString()!;
                    if (previous is not null && string.CompareOrdinal(previous, dataset) >= 0) return null;
                    previous = dataset;
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return null;
                    if (!ownWritten && string.CompareOrdinal(datasetId, dataset) < 0) { WriteGroup(w, datasetId, sortedPaths, utf8, []); ownWritten = true; }
                    kept.Clear();
                    var own = dataset == datasetId;
                    string? last = null;
                    while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        string? path = null;
                        if (own)
                        {
                            path = reader.GetString()!;
                            if (last is not null && string.CompareOrdinal(last, path) >= 0) return null;
                            last = path;
                        }
                        else if (Match(ref reader, sortedPaths) is not null) continue; // moves to the dataset's group
                        kept.Add(((int)reader.TokenStartIndex, (int)reader.BytesConsumed, path));
                    }
                    if (reader.TokenType != JsonTokenType.EndArray) return null;
                    if (own) { WriteGroup(w, datasetId, sortedPaths, utf8, kept); ownWritten = true; }
                    else if (kept.Count > 0) WriteGroup(w, dataset, [], utf8, kept);
                }
                if (!ownWritten) WriteGroup(w, datasetId, sortedPaths, utf8, []);
                w.WriteEndObject();
            }
            var text = Encoding.UTF8.GetString(b.WrittenSpan);
            if (b.Capacity > 1 << 20) buffer = null;
            return text;
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>One group: the existing paths (raw string tokens in <paramref name="utf8"/>, in order; with their text when
    /// <paramref name="added"/> is not empty) merged with <paramref name="added"/> (sorted), without duplicates.</summary>
    private static void WriteGroup(Utf8JsonWriter w, string dataset, IReadOnlyList<string> added, ReadOnlySpan<byte> utf8, List<(int Start, int End, string? Path)> existing)
    {
        if (existing.Count == 0 && added.Count == 0) return; // no empty groups
        w.WritePropertyName(dataset);
        w.WriteStartArray();
        var a = 0;
        foreach (var (start, end, path) in existing)
        {
            if (path is not null)
            {
                while (a < added.Count && string.CompareOrdinal(added[a], path) < 0) w.WriteStringValue(added[a++]);
                if (a < added.Count && added[a] == path) a++;
            }
            w.WriteRawValue(utf8[start..end], skipInputValidation: true);
        }
        while (a < added.Count) w.WriteStringValue(added[a++]);
        w.WriteEndArray();
    }

    private static string? Match(ref Utf8JsonReader reader, IReadOnlyList<string> paths)
    {
        for (var i = 0; i < paths.Count; i++) if (reader.ValueTextEquals(paths[i])) return paths[i];
        return null;
    }

    private static string WriteWith(Action<Utf8JsonWriter> body)
    {
        var b = buffer ??= new ArrayBufferWriter<byte>(1024);
        b.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(b))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        var text = Encoding.UTF8.GetString(b.WrittenSpan);
        if (b.Capacity > 1 << 20) buffer = null;
        return text;
    }
}
