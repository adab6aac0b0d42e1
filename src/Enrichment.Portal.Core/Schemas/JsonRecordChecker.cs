using System.Globalization;
using System.Text.Json;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>One reason a record does not conform to its schema. Codes: <c>TYPE_MISMATCH</c>, <c>REQUIRED_MISSING</c>,
/// <c>UNKNOWN_FIELD</c>, <c>ENUM_MISMATCH</c>, <c>NOT_AN_OBJECT</c>.</summary>
public sealed record RecordError(string? Field, string Code, string Message);

/// <summary>What to do with record keys that are not fields of the schema.</summary>
public enum UnknownFieldPolicy
{
    /// <summary>An unknown key is an <c>UNKNOWN_FIELD</c> error.</summary>
    Reject,
    /// <summary>Unknown keys are ignored.</summary>
    Ignore,
}

/// <summary>
/// Checks one JSON record against a <see cref="SchemaDefinition"/>. Nested objects are flattened into dotted paths
/// (<c>{"person":{"name":"x"}}</c> is field <c>person.name</c>); dotted keys (<c>{"person.name":"x"}</c>) are accepted too.
/// <c>null</c> counts as absent. A required nested field is only required when its parent object is present
/// (JSON Schema semantics); top-level required fields are always required. Dates are <c>yyyy-MM-dd</c>; datetimes are
/// ISO 8601 with a time. Integers accept integral JSON numbers (<c>3</c>, <c>3.0</c>). Map values and array items are
/// checked against <c>valueType</c>/<c>itemType</c> (objects only for being objects).
/// </summary>
public static class JsonRecordChecker
{
    /// <summary>Checks <paramref name="record"/>; returns every error (empty when it conforms). Never throws for bad input.</summary>
    public static IReadOnlyList<RecordError> Check(SchemaDefinition schema, JsonElement record, UnknownFieldPolicy unknownFields = UnknownFieldPolicy.Reject)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var errors = new List<RecordError>();
        if (record.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(null, "NOT_AN_OBJECT", $"A record must be a JSON object, not {Kind(record)}."));
            return errors;
        }
        var fields = new Dictionary<string, SchemaField>(StringComparer.Ordinal);
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in schema.Fields)
        {
            fields.TryAdd(f.Path, f);
            foreach (var a in SchemaPaths.Ancestors(f.Path)) parents.Add(a);
        }
        var present = new HashSet<string>(StringComparer.Ordinal);
        Walk(record, "", fields, parents, present, errors, unknownFields);

        foreach (var f in schema.Fields.Where(f => f.Required))
        {
            if (present.Contains(f.Path)) continue;
            var parent = SchemaPaths.Parent(f.Path);
            if (parent is null || present.Contains(parent))
                errors.Add(new(f.Path, "REQUIRED_MISSING", $"The required field '{f.Path}' is missing."));
        }
        return errors;
    }

    private static void Walk(JsonElement obj, string prefix, Dictionary<string, SchemaField> fields, HashSet<string> parents,
        HashSet<string> present, List<RecordError> errors, UnknownFieldPolicy unknown)
    {
        foreach (var prop in obj.EnumerateObject())
        {
            var path = SchemaPaths.Join(prefix, prop.Name);
            var value = prop.Value;
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (fields.TryGetValue(path, out var field))
            {
                MarkPresent(path, present);
                CheckValue(field, value, errors);
            }
            else if (parents.Contains(path))
            {
                if (value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new(path, "TYPE_MISMATCH", $"'{path}' must be an object of nested fields, not {Kind(value)}."));
                    continue;
                }
                MarkPresent(path, present);
                Walk(value, path, fields, parents, present, errors, unknown);
            }
            else if (unknown == UnknownFieldPolicy.Reject)
            {
                errors.Add(new(path, "UNKNOWN_FIELD", $"'{path}' is not a field of the schema."));
            }
        }
    }

    private static void MarkPresent(string path, HashSet<string> present)
    {
        present.Add(path);
        foreach (var a in SchemaPaths.Ancestors(path)) present.Add(a);
    }

    private static void CheckValue(SchemaField field, JsonElement value, List<RecordError> errors)
    {
        switch (field.Type)
        {
            case FieldType.Array:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    errors.Add(new(field.Path, "TYPE_MISMATCH", $"'{field.Path}' must be an array, not {Kind(value)}."));
                    return;
                }
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (field.ItemType is { } it && item.ValueKind != JsonValueKind.Null && Mismatch(it, item) is { } why)
                    {
                        errors.Add(new(field.Path, "TYPE_MISMATCH", $"Item {i} of '{field.Path}' {why}."));
                        return;
                    }
                    i++;
                }
                return;
            case FieldType.Map:
                if (value.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new(field.Path, "TYPE_MISMATCH", $"'{field.Path}' must be a map (a JSON object), not {Kind(value)}."));
                    return;
                }
                foreach (var entry in value.EnumerateObject())
                {
                    if (field.ValueType is { } vt && entry.Value.ValueKind != JsonValueKind.Null && Mismatch(vt, entry.Value) is { } why)
                    {
                        errors.Add(new(field.Path, "TYPE_MISMATCH", $"The value of key '{entry.Name}' of '{field.Path}' {why}."));
                        return;
                    }
                }
                return;
            default:
                if (Mismatch(field.Type, value) is { } reason)
                {
                    errors.Add(new(field.Path, "TYPE_MISMATCH", $"'{field.Path}' {reason}."));
                    return;
                }
                if (field.Enum is { Count: > 0 } allowed && value.ValueKind == JsonValueKind.String && !allowed.Contains(value.GetString()!, StringComparer.Ordinal))
                    errors.Add(new(field.Path, "ENUM_MISMATCH",
                        $"'{field.Path}' is '{Shorten(value.GetString()!)}', which is not one of the allowed values ({string.Join(", ", allowed.Take(10))}{(allowed.Count > 10 ? ", ..." : "")})."));
                return;
        }
    }

    /// <summary>Null when <paramref name="value"/> fits <paramref name="type"/>, else the end of a sentence saying why.</summary>
    internal static string? Mismatch(FieldType type, JsonElement value)
    {
        switch (type)
        {
            case FieldType.String:
                return value.ValueKind == JsonValueKind.String ? null : $"must be a string, not {Kind(value)}";
            case FieldType.Integer:
                if (value.ValueKind == JsonValueKind.Number && (value.TryGetInt64(out _) || (value.TryGetDouble(out var d) && Math.Abs(d) < 9.2e18 && Math.Floor(d) == d)))
                    return null;
                return $"must be an integer, not {Kind(value)}";
            case FieldType.Number:
                return value.ValueKind == JsonValueKind.Number ? null : $"must be a number, not {Kind(value)}";
            case FieldType.Boolean:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : $"must be true or false, not {Kind(value)}";
            case FieldType.Date:
                return value.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                    ? null : $"must be a date (yyyy-MM-dd), not {Kind(value)}";
            case FieldType.DateTime:
                return value.ValueKind == JsonValueKind.String && IsDateTime(value.GetString()!)
                    ? null : $"must be an ISO 8601 date and time (e.g. 2024-05-01T12:00:00Z), not {Kind(value)}";
            case FieldType.Object:
            case FieldType.Map:
                return value.ValueKind == JsonValueKind.Object ? null : $"must be an object, not {Kind(value)}";
            case FieldType.Array:
                return value.ValueKind == JsonValueKind.Array ? null : $"must be an array, not {Kind(value)}";
            default:
                return "has a type this checker does not know";
        }
    }

    private static bool IsDateTime(string s) =>
        s.Length >= 16 && s.Contains('T', StringComparison.OrdinalIgnoreCase)
        && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the text '{Shorten(v.GetString()!)}'",
        JsonValueKind.Number => $"the number {Shorten(v.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {v.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
