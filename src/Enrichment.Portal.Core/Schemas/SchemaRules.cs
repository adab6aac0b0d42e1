using Enrichment.Portal.Core.Identity;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>
/// The rules every schema must satisfy before it is stored (API.md "Schemas", ARCHITECTURE.md "Concepts").
/// <list type="bullet">
/// <item>Paths: see <see cref="SchemaPaths"/>; no duplicates; a path is either a leaf or a parent of other paths, never both.</item>
/// <item>Types: <c>array</c> needs <c>itemType</c>, <c>map</c> needs <c>valueType</c>; <c>object</c> is only an item/value type
/// (nested objects are dotted paths); <c>itemType</c>/<c>valueType</c> are only allowed on arrays/maps.</item>
/// <item><c>enum</c>: string fields only, non-empty, distinct values.</item>
/// <item>Identity: string fields only (integer ids must be stored as strings so that normalizers, leading zeros and
/// identity-graph keys behave the same for every namespace); the namespace must exist; at most one primary.</item>
/// <item>Event schemas: <c>timestamp</c> (datetime, required) and <c>eventType</c> (string, required); <see cref="Normalize"/> adds them when absent.</item>
/// <item>Guardrail "fields per schema": more than <c>maxFields</c> fields is a hard error.</item>
/// </list>
/// </summary>
public static class SchemaRules
{
    /// <summary>Default of the "fields per schema" guardrail (AEP's limit of fields in a schema).</summary>
    public const int DefaultMaxFields = GuardrailOptions.DefaultFieldsPerSchema;

    /// <summary>Name of the "fields per schema" guardrail, as shown by the guardrail panel.</summary>
    public const string FieldsPerSchemaGuardrail = "fields per schema";

    /// <summary>Validates a schema; returns every broken rule (empty when valid). Never throws for bad input.</summary>
    /// <param name="schema">The schema to check (call <see cref="Normalize"/> first for event schemas coming from users).</param>
    /// <param name="namespaceLookup">Finds an identity namespace by code in the schema's sandbox (built-in or custom), null when unknown.</param>
    /// <param name="maxFields">The "fields per schema" guardrail.</param>
    public static IReadOnlyList<SchemaError> Validate(SchemaDefinition schema, Func<string, NamespaceInfo?> namespaceLookup, int maxFields = DefaultMaxFields)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(namespaceLookup);
        var errors = new List<SchemaError>();
        if (string.IsNullOrWhiteSpace(schema.Name))
            errors.Add(new(null, SchemaErrorCodes.SchemaName, "The schema needs a name."));
        var fields = schema.Fields ?? [];
        if (fields.Count > maxFields)
            errors.Add(new(null, SchemaErrorCodes.TooManyFields,
                $"The schema has {fields.Count} fields, more than the limit of {maxFields} (guardrail '{FieldsPerSchemaGuardrail}'). Remove fields or split the data into several schemas."));

        ValidatePaths(fields, errors);
        foreach (var field in fields)
        {
            if (field is null) continue;
            ValidateType(field, errors);
            ValidateEnum(field, errors);
            ValidateIdentity(field, namespaceLookup, errors);
        }

        var primaries = fields.Where(f => f?.Identity is { Primary: true }).Select(f => f.Path).ToList();
        if (primaries.Count > 1)
            errors.Add(new(null, SchemaErrorCodes.PrimaryIdentityMultiple,
                $"Only one field can be the primary identity, but {string.Join(", ", primaries)} are all marked primary."));

        if (schema.Class == SchemaClass.Event)
        {
            ValidateReserved(schema, SchemaDefinition.TimestampField, FieldType.DateTime, errors);
            ValidateReserved(schema, SchemaDefinition.EventTypeField, FieldType.String, errors);
        }
        return errors;
    }

    /// <summary>
    /// Adds <c>timestamp</c> (datetime, required) and <c>eventType</c> (string, required) to an event schema that does not
    /// list them. Nothing else is changed: a listed reserved field with a wrong type or not required stays as it is and
    /// <see cref="Validate"/> reports it. Profile schemas are returned unchanged.
    /// </summary>
    public static SchemaDefinition Normalize(SchemaDefinition schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (schema.Class != SchemaClass.Event) return schema;
        var fields = (schema.Fields ?? []).ToList();
        var added = new List<SchemaField>();
        if (!fields.Any(f => f?.Path == SchemaDefinition.TimestampField))
            added.Add(new SchemaField { Path = SchemaDefinition.TimestampField, Type = FieldType.DateTime, Required = true, Description = "When the event happened." });
        if (!fields.Any(f => f?.Path == SchemaDefinition.EventTypeField))
            added.Add(new SchemaField { Path = SchemaDefinition.EventTypeField, Type = FieldType.String, Required = true, Description = "What kind of event this is." });
        return added.Count == 0 ? schema : schema with { Fields = [.. added, .. fields] };
    }

    /// <summary>Why the schema cannot be enabled for profile, in the user's words; null when it can (exactly one primary identity).</summary>
    public static string? CanEnableProfile(SchemaDefinition schema) => ProfileBlockers(schema).FirstOrDefault();

    /// <summary>
    /// Every reason that blocks enabling the schema for profile, as sentences for the schema editor (empty when it can be enabled).
    /// </summary>
    public static IReadOnlyList<string> ProfileBlockers(SchemaDefinition schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var blockers = new List<string>();
        var fields = (schema.Fields ?? []).Where(f => f is not null).ToList();
        var primaries = fields.Where(f => f.Identity is { Primary: true }).ToList();
        if (primaries.Count == 0)
        {
            blockers.Add(fields.Any(f => f.Identity is not null)
                ? "Mark one identity field as the primary identity: the profile needs one identifier that every record carries to know whose data it is."
                : "Add an identity field (for example a CRM ID or an email) and mark it as the primary identity: without it records cannot be joined into a customer profile.");
        }
        else if (primaries.Count > 1)
        {
            blockers.Add($"Only one field can be the primary identity; {string.Join(" and ", primaries.Select(p => p.Path))} are all marked primary.");
        }
        foreach (var p in primaries.Where(p => p.Type != FieldType.String))
            blockers.Add($"The primary identity {p.Path} must be a string field.");
        return blockers;
    }

    private static void ValidatePaths(IReadOnlyList<SchemaField> fields, List<SchemaError> errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (field is null || string.IsNullOrEmpty(field.Path))
            {
                errors.Add(new(null, SchemaErrorCodes.PathEmpty, "A field has no path."));
                continue;
            }
            if (!SchemaPaths.IsValidPath(field.Path))
            {
                var bad = field.Path.Split('.').FirstOrDefault(s => !SchemaPaths.IsValidSegment(s));
                var why = string.IsNullOrEmpty(bad)
                    ? "it has an empty segment (two dots in a row, or a leading or trailing dot)"
                    : $"the segment '{bad}' must start with a letter or '_' and contain only letters, digits, '_' and '-'";
                errors.Add(new(field.Path, SchemaErrorCodes.PathSyntax, $"The path '{field.Path}' is not valid: {why}."));
                continue;
            }
            if (!seen.Add(field.Path))
                errors.Add(new(field.Path, SchemaErrorCodes.PathDuplicate, $"The path '{field.Path}' is listed more than once."));
        }
        foreach (var field in fields)
        {
            if (field is null || !SchemaPaths.IsValidPath(field.Path)) continue;
            foreach (var ancestor in SchemaPaths.Ancestors(field.Path))
            {
                if (seen.Contains(ancestor))
                    errors.Add(new(ancestor, SchemaErrorCodes.PathLeafAndParent,
                        $"'{ancestor}' is a field of its own and also the parent of '{field.Path}'; a path is either a value or an object of nested fields, not both."));
            }
        }
    }

    private static void ValidateType(SchemaField f, List<SchemaError> errors)
    {
        if (!Enum.IsDefined(f.Type))
        {
            errors.Add(new(f.Path, SchemaErrorCodes.ObjectNotAFieldType, $"'{f.Path}' has an unknown type."));
            return;
        }
        if (f.Type == FieldType.Object)
            errors.Add(new(f.Path, SchemaErrorCodes.ObjectNotAFieldType,
                $"'{f.Path}' cannot have the type object: nest fields with dotted paths (e.g. '{f.Path}.name'), or use a map or an array of objects."));
        if (f.Type == FieldType.Array && f.ItemType is null)
            errors.Add(new(f.Path, SchemaErrorCodes.ItemTypeMissing, $"The array '{f.Path}' needs an itemType."));
        if (f.Type == FieldType.Map && f.ValueType is null)
            errors.Add(new(f.Path, SchemaErrorCodes.ValueTypeMissing, $"The map '{f.Path}' needs a valueType."));
        if (f.Type != FieldType.Array && f.ItemType is not null)
            errors.Add(new(f.Path, SchemaErrorCodes.ItemTypeNotAllowed, $"'{f.Path}' is not an array, so it cannot have an itemType."));
        if (f.Type != FieldType.Map && f.ValueType is not null)
            errors.Add(new(f.Path, SchemaErrorCodes.ValueTypeNotAllowed, $"'{f.Path}' is not a map, so it cannot have a valueType."));
        if (f.ItemType is { } it && !Enum.IsDefined(it))
            errors.Add(new(f.Path, SchemaErrorCodes.ItemTypeMissing, $"The array '{f.Path}' has an unknown itemType."));
        if (f.ValueType is { } vt && !Enum.IsDefined(vt))
            errors.Add(new(f.Path, SchemaErrorCodes.ValueTypeMissing, $"The map '{f.Path}' has an unknown valueType."));
    }

    private static void ValidateEnum(SchemaField f, List<SchemaError> errors)
    {
        if (f.Enum is null) return;
        if (f.Type != FieldType.String)
        {
            errors.Add(new(f.Path, SchemaErrorCodes.EnumNotString, $"'{f.Path}' is a {Lower(f.Type)} field; only string fields can have a list of allowed values (enum)."));
            return;
        }
        if (f.Enum.Count == 0)
        {
            errors.Add(new(f.Path, SchemaErrorCodes.EnumEmpty, $"The enum of '{f.Path}' is empty: list at least one allowed value, or remove the enum."));
            return;
        }
        if (f.Enum.Any(v => v is null))
            errors.Add(new(f.Path, SchemaErrorCodes.EnumEmpty, $"The enum of '{f.Path}' contains a null value."));
        var dupes = f.Enum.Where(v => v is not null).GroupBy(v => v, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (dupes.Count > 0)
            errors.Add(new(f.Path, SchemaErrorCodes.EnumDuplicate, $"The enum of '{f.Path}' lists {string.Join(", ", dupes.Select(d => $"'{d}'"))} more than once."));
    }

    private static void ValidateIdentity(SchemaField f, Func<string, NamespaceInfo?> lookup, List<SchemaError> errors)
    {
        if (f.Identity is null) return;
        if (f.Type != FieldType.String)
            errors.Add(new(f.Path, SchemaErrorCodes.IdentityType,
                $"'{f.Path}' is a {Lower(f.Type)} field; identity fields must be strings (store numeric ids as text)."));
        if (string.IsNullOrWhiteSpace(f.Identity.Namespace))
            errors.Add(new(f.Path, SchemaErrorCodes.NamespaceUnknown, $"The identity field '{f.Path}' needs an identity namespace."));
        else if (lookup(f.Identity.Namespace) is null)
            errors.Add(new(f.Path, SchemaErrorCodes.NamespaceUnknown,
                $"The identity namespace '{f.Identity.Namespace}' of '{f.Path}' does not exist; create it first or pick an existing one."));
    }

    private static void ValidateReserved(SchemaDefinition schema, string path, FieldType type, List<SchemaError> errors)
    {
        var f = schema.Fields?.FirstOrDefault(x => x?.Path == path);
        if (f is null)
        {
            errors.Add(new(path, SchemaErrorCodes.ReservedFieldMissing, $"An event schema must have the field '{path}' ({Lower(type)}, required)."));
            return;
        }
        if (f.Type != type)
            errors.Add(new(path, SchemaErrorCodes.ReservedFieldType, $"'{path}' of an event schema must be of type {Lower(type)}, not {Lower(f.Type)}."));
        if (!f.Required)
            errors.Add(new(path, SchemaErrorCodes.ReservedFieldOptional, $"'{path}' of an event schema must be required: every event has one."));
    }

    internal static string Lower(FieldType t) => t switch
    {
        FieldType.DateTime => "datetime",
        _ => t.ToString().ToLowerInvariant(),
    };
}
