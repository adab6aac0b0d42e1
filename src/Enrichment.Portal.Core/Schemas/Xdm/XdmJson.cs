using System.Text.Json;

namespace Enrichment.Portal.Core.Schemas.Xdm;

internal static class XdmJson
{
    public static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
        MaxDepth = 256,
    };

    public static string? TryReadId(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, DocumentOptions);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("$id", out var id) && id.ValueKind == JsonValueKind.String
                ? TrimId(id.GetString()!) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string TrimId(string id) => id.TrimEnd('#');

    public static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
