using System.Text;
using System.Text.Json;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>The outcome of validating one record: the typed record (field path -> value) when accepted, else its errors.</summary>
/// <param name="WithoutIdentity">Accepted, but every identity field is empty (kept in the lake, cannot reach the profile).</param>
public sealed record RecordValidation(bool Accepted, IReadOnlyDictionary<string, object?>? Record, IReadOnlyList<RecordError> Errors, bool WithoutIdentity);

/// <summary>
/// Validates records against a schema: types, required fields (events always need <c>timestamp</c> and <c>eventType</c>),
/// enums, record size, and identity values normalized per namespace (<see cref="IdentityNormalizer"/>). Thread-safe once built.
/// </summary>
public sealed class RecordValidator
{
    internal sealed record FieldPlan(SchemaField Field, int Ordinal, bool Required, NormalizerKind? Normalizer, HashSet<string>? Enum);

    private readonly ValueCoercer coercer;
    private readonly int maxRecordBytes;

    /// <summary>The schema validated against.</summary>
    public SchemaDefinition Schema { get; }
    internal IReadOnlyList<FieldPlan> Plans { get; }
    internal bool HasIdentity { get; }
    private readonly int[] arrayOrdinals;

    /// <summary>Whether the schema has array fields (guardrail "array items in a profile fragment").</summary>
    internal bool HasArrays => arrayOrdinals.Length > 0;

    /// <summary>The most items of one array field among the typed values of an accepted record (arrays are kept as JSON text).</summary>
    internal int ArrayItems(object?[] typed)
    {
        var most = 0;
        foreach (var i in arrayOrdinals)
            if (typed[i] is string json) most = Math.Max(most, CountItems(json));
        return most;
    }

    /// <summary>The most items of one array field of an accepted record (by field path).</summary>
    internal int ArrayItems(IReadOnlyDictionary<string, object?> record)
    {
        var most = 0;
        foreach (var i in arrayOrdinals)
            if (record.TryGetValue(Plans[i].Field.Path, out var v) && v is string json) most = Math.Max(most, CountItems(json));
        return most;
    }

    /// <summary>Top-level items of a JSON array text; 0 when it is not an array.</summary>
    internal static int CountItems(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return 0;
        var n = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            n++;
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.Skip();
        }
        return n;
    }

    /// <summary>The rejection message of a record over its size guardrail (with the guardrail's name, as docs/GUARDRAILS.md lists it).</summary>
    public static string TooLargeMessage(SchemaClass schemaClass, long bytes, long maxBytes, bool atLeast = false) =>
        $"record is {(atLeast ? "at least " : "")}{bytes:N0} bytes, above the {schemaClass.ToString().ToLowerInvariant()} record limit of {maxBytes:N0} bytes " +
        $"(guardrail '{(schemaClass == SchemaClass.Event ? "event size" : "profile record size")}', hard)";

    /// <summary>Builds a validator; throws <see cref="ArgumentException"/> when the schema cannot be validated against (unknown namespace, event without timestamp/eventType).</summary>
    public RecordValidator(SchemaDefinition schema, IReadOnlyDictionary<string, NamespaceInfo>? namespaces = null, IngestOptions? options = null)
    {
        options ??= new IngestOptions();
        Schema = schema;
        coercer = new ValueCoercer(options.DateFormat, options.TimestampFormat);
        maxRecordBytes = options.MaxRecordBytes(schema.Class);
        if (schema.Class == SchemaClass.Event)
            foreach (var must in new[] { SchemaDefinition.TimestampField, SchemaDefinition.EventTypeField })
                if (schema.Find(must) is null)
                    throw new ArgumentException($"Event schema '{schema.Name}' has no '{must}' field.");
        var plans = new List<FieldPlan>(schema.Fields.Count);
        for (var i = 0; i < schema.Fields.Count; i++)
        {
            var f = schema.Fields[i];
            NormalizerKind? norm = null;
            if (f.Identity is { } id)
            {
                var ns = (namespaces is not null && namespaces.TryGetValue(id.Namespace, out var n) ? n : null)
                         ?? namespaces?.Values.FirstOrDefault(x => string.Equals(x.Code, id.Namespace, StringComparison.OrdinalIgnoreCase))
                         ?? BuiltInNamespaces.Find(id.Namespace)
                         ?? throw new ArgumentException($"Identity field '{f.Path}' uses unknown namespace '{id.Namespace}'.");
                norm = ns.Normalizer;
            }
            var required = f.Required || (schema.Class == SchemaClass.Event && f.Path is SchemaDefinition.TimestampField or SchemaDefinition.EventTypeField);
            var en = f.Enum is { Count: > 0 } e ? new HashSet<string>(e, StringComparer.Ordinal) : null;
            plans.Add(new FieldPlan(f, i, required, norm, en));
        }
        Plans = plans;
        HasIdentity = plans.Any(p => p.Normalizer is not null);
        arrayOrdinals = plans.Where(p => p.Field.Type == FieldType.Array).Select(p => p.Ordinal).ToArray();
    }

    /// <summary>Validates one streamed JSON record (nested objects address dotted paths; keys match field paths case-insensitively).</summary>
    public RecordValidation Validate(JsonElement record)
    {
        var errors = new List<RecordError>();
        if (record.ValueKind != JsonValueKind.Object)
            return new RecordValidation(false, null, [new RecordError(ErrorCodes.ParseError, null, $"record is a JSON {record.ValueKind.ToString().ToLowerInvariant()}, not an object")], false);
        var flat = JsonFlattener.Flatten(record);
        var cells = new object?[Plans.Count];
        for (var i = 0; i < Plans.Count; i++)
            cells[i] = flat.TryGetValue(Plans[i].Field.Path, out var v) ? v : null;
        var typed = new object?[Plans.Count];
        var bytes = Encoding.UTF8.GetByteCount(record.GetRawText());
        var ok = Validate(cells, bytes, typed, errors, out var noId);
        if (!ok) return new RecordValidation(false, null, errors, false);
        var dict = new Dictionary<string, object?>(Plans.Count, StringComparer.Ordinal);
        for (var i = 0; i < Plans.Count; i++) dict[Plans[i].Field.Path] = typed[i];
        return new RecordValidation(true, dict, [], noId);
    }

    /// <summary>One-shot form of <see cref="Validate(JsonElement)"/> for the streaming endpoint.</summary>
    public static RecordValidation Validate(SchemaDefinition schema, JsonElement record, IReadOnlyDictionary<string, NamespaceInfo>? namespaces, IngestOptions? options = null) =>
        new RecordValidator(schema, namespaces, options).Validate(record);

    /// <summary>Validates cells aligned with the schema's fields, filling <paramref name="typed"/>. Appends errors; returns whether accepted.</summary>
    internal bool Validate(ReadOnlySpan<object?> cells, int recordBytes, object?[] typed, List<RecordError> errors, out bool withoutIdentity)
    {
        withoutIdentity = false;
        var before = errors.Count;
        if (recordBytes > maxRecordBytes)
        {
            errors.Add(new RecordError(ErrorCodes.RecordTooLarge, null, TooLargeMessage(Schema.Class, recordBytes, maxRecordBytes)));
            return false;
        }
        var anyIdentity = false;
        for (var i = 0; i < Plans.Count; i++)
        {
            var p = Plans[i];
            if (!coercer.TryCoerce(cells[i], p.Field, out var v, out var err))
            {
                errors.Add(new RecordError(ErrorCodes.TypeMismatch, p.Field.Path, $"{err}: '{Shorten(cells[i])}'"));
                typed[i] = null;
                continue;
            }
            var empty = v is null || (v is string str && string.IsNullOrWhiteSpace(str));
            if (empty)
            {
                typed[i] = v is string ? (p.Normalizer is null ? v : null) : null;
                if (p.Required) errors.Add(new RecordError(ErrorCodes.RequiredMissing, p.Field.Path, $"required field '{p.Field.Path}' is empty"));
                continue;
            }
            if (p.Normalizer is { } kind)
            {
                var text = v is string t ? t : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture);
                var norm = IdentityNormalizer.Normalize(kind, text);
                if (norm is null)
                {
                    errors.Add(new RecordError(ErrorCodes.InvalidIdentity, p.Field.Path, $"'{Shorten(text)}' is not a valid {kind.ToString().ToLowerInvariant()} identity"));
                    continue;
                }
                if (p.Field.Type == FieldType.String) v = norm;
                anyIdentity = true;
            }
            if (p.Enum is { } en)
            {
                var text = v as string ?? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!;
                if (!en.Contains(text))
                {
                    errors.Add(new RecordError(ErrorCodes.EnumViolation, p.Field.Path, $"'{Shorten(text)}' is not one of: {string.Join(", ", en.Take(10))}"));
                    continue;
                }
            }
            typed[i] = v;
        }
        withoutIdentity = HasIdentity && !anyIdentity;
        return errors.Count == before;
    }

    private static string Shorten(object? v)
    {
        var s = v switch { null => "", JsonElement je => je.GetRawText(), _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "" };
        return s.Length <= 80 ? s : s[..77] + "...";
    }
}

/// <summary>Flattens a JSON object into dotted paths (every node, so map/array/object fields get their subtree), keys case-insensitive.</summary>
internal static class JsonFlattener
{
    public static Dictionary<string, JsonElement> Flatten(JsonElement obj)
    {
        var d = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        Walk(obj, null, d);
        return d;
    }

    private static void Walk(JsonElement obj, string? prefix, Dictionary<string, JsonElement> d)
    {
        foreach (var p in obj.EnumerateObject())
        {
            var path = prefix is null ? p.Name : prefix + "." + p.Name;
            d.TryAdd(path, p.Value);
            if (p.Value.ValueKind == JsonValueKind.Object) Walk(p.Value, path, d);
        }
    }
}
