using System.Text.Json.Nodes;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>
/// Exports a <see cref="SchemaDefinition"/> as a JSON Schema (draft 2020-12) document: nested objects rebuilt from
/// dotted paths, <c>required</c> lists per object, <c>enum</c>, <c>format</c> (<c>date</c>, <c>date-time</c>),
/// arrays with <c>items</c>, maps as objects with <c>additionalProperties</c> (and <c>meta:xdmType: map</c>),
/// identities as <c>"xdm:identity": { "namespace", "primary" }</c>, and the class as <c>"x-class"</c>.
/// <see cref="Xdm.XdmImporter"/> reads all of these back.
/// </summary>
public static class JsonSchemaExporter
{
    /// <summary>The JSON Schema dialect used.</summary>
    public const string Dialect = "https://json-schema.org/draft/2020-12/schema";

    /// <summary>Builds the document; <paramref name="id"/> becomes its <c>$id</c> (e.g. the schema's URL in the portal).</summary>
    public static JsonObject Export(SchemaDefinition schema, string id)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var root = new JsonObject
        {
            ["$schema"] = Dialect,
            ["$id"] = id,
            ["title"] = schema.Name,
            ["type"] = "object",
            ["x-class"] = schema.Class == SchemaClass.Event ? "event" : "profile",
        };
        foreach (var field in schema.Fields)
        {
            var parent = root;
            var segments = field.Path.Split('.');
            for (var i = 0; i < segments.Length - 1; i++)
            {
                var props = Properties(parent);
                if (props[segments[i]] is not JsonObject child)
                {
                    child = new JsonObject { ["type"] = "object" };
                    props[segments[i]] = child;
                }
                parent = child;
            }
            Properties(parent)[segments[^1]] = FieldNode(field);
            if (field.Required)
            {
                if (parent["required"] is not JsonArray req) parent["required"] = req = [];
                req.Add(segments[^1]);
            }
        }
        return root;
    }

    private static JsonObject Properties(JsonObject parent)
    {
        if (parent["properties"] is JsonObject p) return p;
        var created = new JsonObject();
        parent["properties"] = created;
        return created;
    }

    private static JsonObject FieldNode(SchemaField f)
    {
        var node = TypeNode(f.Type, f.ItemType, f.ValueType);
        if (f.Description is not null) node["description"] = f.Description;
        if (f.Enum is { Count: > 0 })
        {
            var values = new JsonArray();
            foreach (var v in f.Enum) values.Add(v);
            node["enum"] = values;
        }
        if (f.Identity is not null)
            node["xdm:identity"] = new JsonObject { ["namespace"] = f.Identity.Namespace, ["primary"] = f.Identity.Primary };
        return node;
    }

    private static JsonObject TypeNode(FieldType type, FieldType? itemType = null, FieldType? valueType = null) => type switch
    {
        FieldType.String => new JsonObject { ["type"] = "string" },
        FieldType.Integer => new JsonObject { ["type"] = "integer" },
        FieldType.Number => new JsonObject { ["type"] = "number" },
        FieldType.Boolean => new JsonObject { ["type"] = "boolean" },
        FieldType.Date => new JsonObject { ["type"] = "string", ["format"] = "date" },
        FieldType.DateTime => new JsonObject { ["type"] = "string", ["format"] = "date-time" },
        FieldType.Array => new JsonObject { ["type"] = "array", ["items"] = TypeNode(itemType ?? FieldType.String) },
        FieldType.Map => new JsonObject { ["type"] = "object", ["meta:xdmType"] = "map", ["additionalProperties"] = TypeNode(valueType ?? FieldType.String) },
        _ => new JsonObject { ["type"] = "object" },
    };
}
