using System.Text.Json;
using System.Text.Json.Serialization;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>Raised when JSON does not describe schema fields; the message says where and why.</summary>
public sealed class SchemaJsonException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// (De)serializes schema fields and definitions in the API.md shape:
/// <c>{ "path", "type", "required", "enum", "description", "itemType", "valueType", "identity": { "namespace", "primary" } }</c>,
/// camelCase, type names lower case (<c>datetime</c>), nulls omitted. Used by the catalog to store fields and by the API.
/// </summary>
public static class SchemaDefinitionJson
{
    /// <summary>The options used for fields and definitions (camelCase, nulls omitted, enums as their lower-case names).</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        RespectNullableAnnotations = true,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                static info =>
                {
                    // SchemaDefinition's computed helpers are not part of the stored shape.
                    if (info.Type != typeof(SchemaDefinition)) return;
                    for (var i = info.Properties.Count - 1; i >= 0; i--)
                        if (info.Properties[i].Name is "primaryIdentity" or "identityFields")
                            info.Properties.RemoveAt(i);
                },
            },
        },
    };

    /// <summary>Fields as a JSON array.</summary>
    public static string SerializeFields(IEnumerable<SchemaField> fields) =>
        JsonSerializer.Serialize(fields.ToList(), Options);

    /// <summary>Parses a JSON array of fields. Throws <see cref="SchemaJsonException"/> with a clear message on bad input.</summary>
    public static IReadOnlyList<SchemaField> DeserializeFields(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var fields = JsonSerializer.Deserialize<List<SchemaField>>(json, Options)
                ?? throw new SchemaJsonException("Expected a JSON array of fields, got null.");
            for (var i = 0; i < fields.Count; i++)
                if (fields[i] is null) throw new SchemaJsonException($"Field {i} is null.");
            return fields;
        }
        catch (JsonException e)
        {
            throw new SchemaJsonException("The fields are not valid: " + e.Message, e);
        }
    }

    /// <summary>Like <see cref="DeserializeFields"/>, without throwing.</summary>
    public static bool TryDeserializeFields(string json, out IReadOnlyList<SchemaField> fields, out string? error)
    {
        try
        {
            fields = DeserializeFields(json);
            error = null;
            return true;
        }
        catch (SchemaJsonException e)
        {
            fields = [];
            error = e.Message;
            return false;
        }
    }

    /// <summary>One field as a JSON element (e.g. for a problem detail or an API answer).</summary>
    public static JsonElement ToElement(SchemaField field) => JsonSerializer.SerializeToElement(field, Options);

    /// <summary>A whole definition: <c>{ "name", "class", "fields" }</c>.</summary>
    public static string SerializeDefinition(SchemaDefinition schema) => JsonSerializer.Serialize(schema, Options);

    /// <summary>Parses <c>{ "name", "class", "fields" }</c>. Throws <see cref="SchemaJsonException"/> on bad input.</summary>
    public static SchemaDefinition DeserializeDefinition(string json)
    {
        try
        {
            var s = JsonSerializer.Deserialize<SchemaDefinition>(json, Options)
                ?? throw new SchemaJsonException("Expected a schema object, got null.");
            if (s.Fields is null) throw new SchemaJsonException("The schema has no 'fields' array.");
            return s;
        }
        catch (JsonException e)
        {
            throw new SchemaJsonException("The schema is not valid: " + e.Message, e);
        }
    }
}
