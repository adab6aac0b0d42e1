using System.Text.Json;

namespace Enrichment.Portal.Core.Schemas.Xdm;

/// <summary>One import: the parsed files, the accumulating fields, warnings and errors.</summary>
internal sealed partial class XdmImportRun
{
    private const int MaxGatherDepth = 64;
    private const string ExtensibleId = "https://ns.adobe.com/xdm/common/extensible";
    private static readonly string[] EventClassIds =
        ["https://ns.adobe.com/xdm/data/time-series", "https://ns.adobe.com/xdm/context/experienceevent"];

    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "$comment", "definitions", "$defs", "title", "default", "examples", "auditable", "readOnly", "writeOnly",
        "meta:license", "meta:titleId", "meta:descriptionId", "meta:status", "meta:createdDate", "meta:tags", "meta:abstract",
        "meta:extensible", "meta:intendedToExtend", "meta:usereditable", "meta:auditable", "meta:immutable", "meta:enum",
        "meta:titleI", "meta:altId", "meta:resourceType", "meta:registryMetadata", "meta:containerId", "meta:sandboxId",
        "meta:sandboxType", "meta:tenantNamespace", "meta:classTitle", "meta:class", "x-class", "version", "meta:extends",
        "meta:xedConverted", "meta:refProperty", "meta:keys", "meta:conditionalField", "meta:conditionalValue", "deprecated",
    };

    private static readonly HashSet<string> Constraints = new(StringComparer.Ordinal)
    {
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern",
        "minItems", "maxItems", "uniqueItems", "const", "minProperties", "maxProperties",
    };

    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "oneOf", "anyOf", "not", "patternProperties", "if", "then", "else", "dependencies", "dependentRequired",
        "dependentSchemas", "propertyNames", "contains", "unevaluatedProperties", "unevaluatedItems", "prefixItems",
    };

    private readonly XdmSource _source;
    private readonly XdmImportOptions _options;
    private readonly Dictionary<string, JsonDocument> _docs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _invalid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byId = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];
    private readonly List<XdmImportError> _errors = [];
    private readonly HashSet<string> _errorKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Count, string Example)> _aggregated = new(StringComparer.Ordinal);
    private readonly List<SchemaField> _fields = [];
    private readonly Dictionary<string, int> _fieldIndex = new(StringComparer.Ordinal);
    private readonly List<string> _identityMaps = [];
    private readonly List<(string Pointer, IdentityMapping Identity)> _rootIdentityDescriptors = [];
    private string _currentPath = "(root)";

    public XdmImportRun(XdmSource source, XdmImportOptions options)
    {
        _source = source;
        _options = options;
    }

    private readonly record struct Loc(string File, JsonElement Node, string Pointer)
    {
        public string Key => File + "#" + Pointer;
    }

    private sealed class Acc
    {
        public readonly List<string> PropertyOrder = [];
        public readonly Dictionary<string, List<Loc>> Properties = new(StringComparer.Ordinal);
        public readonly HashSet<string> Required = new(StringComparer.Ordinal);
        public readonly List<string> Types = [];
        public readonly HashSet<string> Seen = new(StringComparer.Ordinal);
        public readonly HashSet<string> DocIds = new(StringComparer.Ordinal);
        public readonly HashSet<string> RefTargets = new(StringComparer.Ordinal);
        public readonly List<string> ClassHints = [];
        public readonly List<JsonElement> Descriptors = [];
        public string? Format, Description, XdmType;
        public List<string>? Enum;
        public Loc? Items, AdditionalProperties;
        public IdentityMapping? Identity;
    }

    public XdmImportResult Execute()
    {
        try
        {
            return ExecuteCore();
        }
        finally
        {
            foreach (var d in _docs.Values) d.Dispose();
        }
    }

    private XdmImportResult ExecuteCore()
    {
        var entryFile = _source.EntryPath;
        var title = Path.GetFileName(entryFile);
        foreach (var (path, text) in _source.Files)
        {
            try
            {
                var doc = JsonDocument.Parse(text, XdmJson.DocumentOptions);
                _docs[path] = doc;
                if (XdmJson.Str(doc.RootElement, "$id") is { } id && !_byId.TryAdd(XdmJson.TrimId(id), path))
                    _warnings.Add($"The $id '{id}' is declared by both '{_byId[XdmJson.TrimId(id)]}' and '{path}'; the first is used.");
            }
            catch (JsonException e)
            {
                _invalid[path] = e.Message;
            }
        }
        if (_invalid.TryGetValue(entryFile, out var why))
            return Fail(title, new("INVALID_JSON", $"The schema '{entryFile}' is not valid JSON: {why}", entryFile));
        if (_invalid.Count > 0)
            _warnings.Add($"{_invalid.Count} provided file(s) are not valid JSON and were not used (e.g. '{_invalid.Keys.First()}').");

        var root = _docs[entryFile].RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            return Fail(title, new("NOT_A_SCHEMA", $"The schema '{entryFile}' must be a JSON object.", entryFile));
        title = XdmJson.Str(root, "title") is { Length: > 0 } t ? t : title;

        var rootAcc = new Acc();
        Gather(new Loc(entryFile, root, ""), rootAcc, []);
        if (_errors.Count == 0)
            EmitObject(rootAcc, "", 0, []);
        if (_errors.Count > 0)
            return Fail(title, null);

        ApplyRootDescriptors();
        var cls = DetectClass(root, rootAcc);
        var schema = new SchemaDefinition(_options.Name ?? title, cls, _fields.ToList());
        if (cls == SchemaClass.Event) schema = AdjustEvent(schema);

        foreach (var (key, (count, example)) in _aggregated)
            _warnings.Add(count == 1 ? $"{key} (at {example})." : $"{key} ({count} times, e.g. at {example}).");
        return new(schema, title, _warnings, _errors, _identityMaps);
    }

    private XdmImportResult Fail(string title, XdmImportError? error)
    {
        if (error is not null) _errors.Add(error);
        return new(null, title, _warnings, _errors, _identityMaps);
    }

    private void Error(XdmImportError e)
    {
        if (_errorKeys.Add(e.Code + "|" + e.File + "|" + e.Reference + "|" + e.Message)) _errors.Add(e);
    }

    private void Aggregate(string message) =>
        _aggregated[message] = _aggregated.TryGetValue(message, out var v) ? (v.Count + 1, v.Example) : (1, _currentPath);

    // ---- fields -------------------------------------------------------------------------------------------------

    private Acc GatherAll(IEnumerable<Loc> locs)
    {
        var acc = new Acc();
        foreach (var l in locs) Gather(l, acc, []);
        return acc;
    }

    private void EmitObject(Acc obj, string prefix, int depth, List<string> typeStack)
    {
        var used = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in obj.PropertyOrder)
        {
            var segment = XdmNames.ToSegment(name);
            if (used.TryGetValue(segment, out var other) && other != name)
            {
                _warnings.Add($"The properties '{other}' and '{name}' of '{(prefix.Length == 0 ? "(root)" : prefix)}' both map to the path segment '{segment}'; '{name}' was not imported.");
                continue;
            }
            used[segment] = name;
            var path = SchemaPaths.Join(prefix, segment);
            var saved = _currentPath;
            _currentPath = path;
            var child = GatherAll(obj.Properties[name]);
            if (_errors.Count > 0) return;
            EmitField(child, path, segment, obj.Required.Contains(name), depth + 1, typeStack);
            _currentPath = saved;
        }
        foreach (var d in obj.Descriptors) ReadDescriptor(d, prefix.Length == 0 ? null : prefix, atRoot: prefix.Length == 0);
    }

    private void EmitField(Acc acc, string path, string segment, bool required, int depth, List<string> typeStack)
    {
        if (depth > _options.MaxDepth)
        {
            Aggregate($"Fields nested deeper than {_options.MaxDepth} levels were not imported");
            return;
        }
        foreach (var d in acc.Descriptors) ReadDescriptor(d, path, atRoot: false);

        if (segment == "identityMap")
        {
            _identityMaps.Add(path);
            _warnings.Add($"'{path}' is an XDM identityMap (namespace code -> array of {{ id, primary, authenticatedState }}); it was imported as a map of arrays, and its identities are read from each record rather than from typed identity fields. Mark a typed field as the primary identity to enable the schema for profile.");
            AddField(new SchemaField { Path = path, Type = FieldType.Map, ValueType = FieldType.Array, Required = required, Description = acc.Description });
            return;
        }

        var types = acc.Types.Where(t => t != "null").Distinct().ToList();
        if (types.Count > 1) Aggregate("A field with several types was imported with its first type");
        var type = types.FirstOrDefault();
        var isMap = acc.XdmType == "map" || (acc.AdditionalProperties is not null && acc.Properties.Count == 0);
        if (type is null && acc.Properties.Count > 0) type = "object";
        if (type is null && acc.Items is not null) type = "array";
        if (type is null && acc.Enum is not null) type = "string";

        switch (type)
        {
            case "object" when !isMap:
                if (acc.Properties.Count == 0)
                {
                    Aggregate("An object without properties has no fields to import and was left out");
                    return;
                }
                if (acc.RefTargets.Any(typeStack.Contains))
                {
                    _warnings.Add($"'{path}' repeats a type that contains it (a recursive data type); its nested fields were not imported.");
                    return;
                }
                typeStack.AddRange(acc.RefTargets);
                EmitObject(acc, path, depth, typeStack);
                typeStack.RemoveRange(typeStack.Count - acc.RefTargets.Count, acc.RefTargets.Count);
                return;
            case "object":
                FieldType valueType;
                if (acc.AdditionalProperties is { } ap) valueType = ElementType(GatherAll([ap]), typeStack);
                else
                {
                    Aggregate("A map without 'additionalProperties' was imported as a map of strings");
                    valueType = FieldType.String;
                }
                AddField(new SchemaField { Path = path, Type = FieldType.Map, ValueType = valueType, Required = required, Description = acc.Description, Identity = acc.Identity });
                return;
            case "array":
                FieldType itemType;
                if (acc.Items is { } items) itemType = ElementType(GatherAll([items]), typeStack);
                else
                {
                    Aggregate("An array without 'items' was imported as an array of strings");
                    itemType = FieldType.String;
                }
                AddField(new SchemaField { Path = path, Type = FieldType.Array, ItemType = itemType, Required = required, Description = acc.Description, Identity = acc.Identity });
                return;
            case null:
                Aggregate("A property without a type was not imported");
                return;
            default:
                if (Scalar(type, acc.Format) is not { } scalar)
                {
                    Aggregate($"A property of the unknown type '{type}' was not imported");
                    return;
                }
                AddField(new SchemaField
                {
                    Path = path, Type = scalar, Required = required, Description = acc.Description, Identity = acc.Identity,
                    Enum = scalar == FieldType.String && acc.Enum is { Count: > 0 } ? acc.Enum.Distinct().ToList() : null,
                });
                if (acc.Enum is not null && scalar != FieldType.String) Aggregate("An enum on a non-string field was not imported");
                return;
        }
    }

    private FieldType ElementType(Acc acc, List<string> typeStack)
    {
        var type = acc.Types.FirstOrDefault(t => t != "null")
            ?? (acc.Properties.Count > 0 || acc.AdditionalProperties is not null ? "object" : acc.Items is not null ? "array" : null);
        switch (type)
        {
            case "object" when acc.XdmType == "map" || (acc.AdditionalProperties is not null && acc.Properties.Count == 0):
                return FieldType.Map;
            case "object":
                if (acc.Properties.Count > 0) Aggregate("Arrays and maps of objects keep their items as untyped objects (the items' fields are not typed)");
                return FieldType.Object;
            case "array":
                return FieldType.Array;
            case null:
                Aggregate("An array item or map value without a type was imported as string");
                return FieldType.String;
            default:
                if (Scalar(type, acc.Format) is { } s) return s;
                Aggregate($"An array item or map value of the unknown type '{type}' was imported as string");
                return FieldType.String;
        }
    }

    private FieldType? Scalar(string type, string? format)
    {
        switch (type)
        {
            case "string":
                if (format == "date") return FieldType.Date;
                if (format == "date-time") return FieldType.DateTime;
                if (format is not null) Aggregate($"The string format '{format}' is not enforced (kept as string)");
                return FieldType.String;
            case "integer": return FieldType.Integer;
            case "number": return FieldType.Number;
            case "boolean": return FieldType.Boolean;
            default: return null;
        }
    }

    private void AddField(SchemaField field)
    {
        if (_fieldIndex.TryGetValue(field.Path, out var i))
        {
            var existing = _fields[i];
            if (existing.Type == field.Type && existing.ItemType == field.ItemType && existing.ValueType == field.ValueType)
                _fields[i] = existing with { Required = existing.Required || field.Required, Identity = existing.Identity ?? field.Identity };
            else
                _warnings.Add($"'{field.Path}' is defined twice with different types ({existing.Type} and {field.Type}); the first was kept.");
            return;
        }
        _fieldIndex[field.Path] = _fields.Count;
        _fields.Add(field);
    }

    // ---- identity descriptors and class -------------------------------------------------------------------------

    private void ReadDescriptor(JsonElement d, string? fieldPath, bool atRoot)
    {
        var type = XdmJson.Str(d, "@type");
        if (type != "xdm:descriptorIdentity")
        {
            Aggregate($"The descriptor '{type ?? "(no @type)"}' was not imported");
            return;
        }
        var ns = XdmJson.Str(d, "xdm:namespace") ?? XdmJson.Str(d, "namespace");
        if (string.IsNullOrWhiteSpace(ns))
        {
            _warnings.Add($"An identity descriptor{(fieldPath is null ? "" : $" on '{fieldPath}'")} has no xdm:namespace and was ignored.");
            return;
        }
        var primary = d.TryGetProperty("xdm:isPrimary", out var p) && p.ValueKind == JsonValueKind.True;
        var source = XdmJson.Str(d, "xdm:sourceProperty");
        if (source is not null)
        {
            var prefix = atRoot || fieldPath is null ? "" : fieldPath;
            var rel = string.Join('.', source.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(XdmNames.ToSegment));
            _rootIdentityDescriptors.Add((SchemaPaths.Join(prefix, rel), new IdentityMapping(ns, primary)));
        }
        else if (fieldPath is not null)
        {
            _rootIdentityDescriptors.Add((fieldPath, new IdentityMapping(ns, primary)));
        }
        else
        {
            _warnings.Add($"A schema-level identity descriptor for '{ns}' has no xdm:sourceProperty and was ignored.");
        }
    }

    private void ApplyRootDescriptors()
    {
        foreach (var (path, identity) in _rootIdentityDescriptors)
        {
            if (!_fieldIndex.TryGetValue(path, out var i))
            {
                _warnings.Add($"An identity descriptor ({identity.Namespace}) points at '{path}', which is not a field of the imported schema; it was ignored.");
                continue;
            }
            _fields[i] = _fields[i] with { Identity = identity };
        }
    }

    private static SchemaClass DetectClass(JsonElement root, Acc rootAcc)
    {
        foreach (var hint in rootAcc.ClassHints)
        {
            if (hint is "event" || EventClassIds.Contains(XdmJson.TrimId(hint))) return SchemaClass.Event;
            if (hint is "profile" || XdmJson.TrimId(hint) == "https://ns.adobe.com/xdm/context/profile") return SchemaClass.Profile;
        }
        return EventClassIds.Any(rootAcc.DocIds.Contains) ? SchemaClass.Event : SchemaClass.Profile;
    }

    private SchemaDefinition AdjustEvent(SchemaDefinition schema)
    {
        var fields = schema.Fields.ToList();
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i].Path is SchemaDefinition.TimestampField or SchemaDefinition.EventTypeField && !fields[i].Required)
            {
                _warnings.Add($"'{fields[i].Path}' was made required: every event schema here requires it.");
                fields[i] = fields[i] with { Required = true };
            }
        }
        var normalized = SchemaRules.Normalize(schema with { Fields = fields });
        foreach (var added in normalized.Fields.Where(f => schema.Find(f.Path) is null))
            _warnings.Add($"'{added.Path}' was added: every event schema here has it.");
        return normalized;
    }
}
