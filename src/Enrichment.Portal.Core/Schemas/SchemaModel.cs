using System.Text.Json.Serialization;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>The class of a schema: attributes of a person, or something that happened at a time.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SchemaClass>))]
public enum SchemaClass
{
    [JsonStringEnumMemberName("profile")] Profile,
    [JsonStringEnumMemberName("event")] Event,
}

/// <summary>Field types of API.md. <see cref="Object"/> is used only as an item/value type (nested objects are dotted paths).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FieldType>))]
public enum FieldType
{
    [JsonStringEnumMemberName("string")] String,
    [JsonStringEnumMemberName("integer")] Integer,
    [JsonStringEnumMemberName("number")] Number,
    [JsonStringEnumMemberName("boolean")] Boolean,
    [JsonStringEnumMemberName("date")] Date,
    [JsonStringEnumMemberName("datetime")] DateTime,
    [JsonStringEnumMemberName("array")] Array,
    [JsonStringEnumMemberName("map")] Map,
    [JsonStringEnumMemberName("object")] Object,
}

/// <summary>An identity field: the namespace its values belong to, and whether it is the schema's primary identity.</summary>
public sealed record IdentityMapping(string Namespace, bool Primary = false);

/// <summary>One typed field of a schema, addressed by a dotted path (<c>person.email</c>).</summary>
public sealed record SchemaField
{
    public required string Path { get; init; }
    public required FieldType Type { get; init; }
    public bool Required { get; init; }
    public IReadOnlyList<string>? Enum { get; init; }
    public string? Description { get; init; }
    /// <summary>For <see cref="FieldType.Array"/>.</summary>
    public FieldType? ItemType { get; init; }
    /// <summary>For <see cref="FieldType.Map"/>.</summary>
    public FieldType? ValueType { get; init; }
    public IdentityMapping? Identity { get; init; }
}

/// <summary>The parts of a schema that ingestion, stitching and export need (no catalog concerns).</summary>
public sealed record SchemaDefinition(string Name, SchemaClass Class, IReadOnlyList<SchemaField> Fields)
{
    public const string TimestampField = "timestamp";
    public const string EventTypeField = "eventType";

    public SchemaField? PrimaryIdentity => Fields.FirstOrDefault(f => f.Identity is { Primary: true });
    public IEnumerable<SchemaField> IdentityFields => Fields.Where(f => f.Identity is not null);
    public SchemaField? Find(string path) => Fields.FirstOrDefault(f => string.Equals(f.Path, path, StringComparison.Ordinal));
}
