using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>
/// The chosen attribute values of a member for a destination (file rows, webhook batches), read from the profile's flat
/// attributes JSON with <see cref="JsonDocument"/> (no node tree per profile): the same text as
/// <see cref="DestinationRunJob.Value"/> over <c>ProfileValues.ParseFlat</c> — a string as itself, a number or boolean as its
/// JSON text, an object or array as compact JSON, null or missing as null; <c>insights.&lt;model&gt;.&lt;field&gt;</c> reads a
/// field of the insight object.
/// </summary>
internal static class MemberValues
{
    /// <summary>Fills <paramref name="values"/> (one slot per path) from <paramref name="attributesJson"/> (null: all null).</summary>
    public static void Read(string? attributesJson, IReadOnlyList<string> paths, string?[] values)
    {
        Array.Clear(values);
        if (paths.Count == 0 || string.IsNullOrEmpty(attributesJson)) return;
        using var doc = JsonDocument.Parse(attributesJson);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return;
        for (var i = 0; i < paths.Count; i++)
        {
            var path = paths[i];
            if (!root.TryGetProperty(path, out var e))
            {
                if (!path.StartsWith("insights.", StringComparison.Ordinal)) continue;
                var dot = path.IndexOf('.', "insights.".Length);
                if (dot <= 0 || !root.TryGetProperty(path.AsSpan(0, dot), out var o) || o.ValueKind != JsonValueKind.Object
                    || !o.TryGetProperty(path.AsSpan(dot + 1), out e)) continue;
            }
            values[i] = Text(e);
        }
    }

    private static string? Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => JsonNode.Parse(e.GetRawText())!.ToJsonString(), // as JsonNode writes it (escaping), for the rare nested value
    };
}
