using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enrichment.Portal.Core.Schemas.Xdm;

/// <summary>Turns XDM-shaped JSON documents (keys like <c>xdm:person</c>) into records of an imported schema.</summary>
public static class XdmInstances
{
    /// <summary>
    /// Renames every key by <see cref="XdmNames.ToSegment"/>, except the keys of map fields of <paramref name="schema"/>
    /// (e.g. the namespace codes of <c>identityMap</c>), which are data. The result can be checked by <see cref="JsonRecordChecker"/>.
    /// </summary>
    public static JsonNode? ToRecord(JsonElement document, SchemaDefinition schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var maps = schema.Fields.Where(f => f.Type == FieldType.Map).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        return Convert(document, "", maps, inData: false);
    }

    private static JsonNode? Convert(JsonElement e, string path, HashSet<string> maps, bool inData)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                var isMap = !inData && maps.Contains(path);
                foreach (var p in e.EnumerateObject())
                {
                    var key = isMap ? p.Name : XdmNames.ToSegment(p.Name);
                    obj[key] = Convert(p.Value, isMap ? path : SchemaPaths.Join(path, key), maps, inData || isMap);
                }
                return obj;
            case JsonValueKind.Array:
                var arr = new JsonArray();
                foreach (var item in e.EnumerateArray()) arr.Add(Convert(item, path, maps, inData: true));
                return arr;
            default:
                return JsonValue.Create(e.Clone());
        }
    }
}
