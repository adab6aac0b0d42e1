using System.Globalization;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>How a value is stored on the profile and compared.</summary>
public enum ValueKind { Number, String, Boolean, Date, DateTime, Array, Scalar }

/// <summary>A field a rule may name: its kind and, for arrays, the kind of the items.</summary>
public sealed record RuleField(string Path, ValueKind Kind, ValueKind? ItemKind = null, string? Description = null);

/// <summary>
/// What the rules of a sandbox may refer to: profile attributes (from the schemas of its profile-enabled record datasets),
/// insight models and their fields, event types and event fields (event datasets), identity namespaces and audiences.
/// </summary>
public sealed class RuleCatalog
{
    public Dictionary<string, RuleField> Attributes { get; } = new(StringComparer.Ordinal);
    /// <summary>Map fields (path -> value kind): <c>path.key</c> addresses one entry.</summary>
    public Dictionary<string, ValueKind> Maps { get; } = new(StringComparer.Ordinal);
    public HashSet<string> InsightModels { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, RuleField> EventFields { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Namespaces { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Audience id -> the ids its rule refers to (cycle check).</summary>
    public Dictionary<string, IReadOnlyList<string>> Audiences { get; } = new(StringComparer.Ordinal);
    /// <summary>Audience id -> name (a refused cycle names the audiences on it).</summary>
    public Dictionary<string, string> AudienceNames { get; } = new(StringComparer.Ordinal);

    /// <summary>The standard insight fields and their kinds; other names are custom fields (scalar).</summary>
    public static readonly IReadOnlyDictionary<string, RuleField> InsightFieldKinds = new Dictionary<string, RuleField>(StringComparer.Ordinal)
    {
        ["score"] = new("score", ValueKind.Number, null, "Probability from 0 to 1"),
        ["value"] = new("value", ValueKind.Number, null, "Predicted value"),
        ["engagement"] = new("engagement", ValueKind.Number, null, "Engagement score"),
        ["uplift"] = new("uplift", ValueKind.Number, null, "Uplift: change of the outcome's probability under the treatment"),
        ["segment"] = new("segment", ValueKind.Scalar, null, "Segment (cluster)"),
        ["top"] = new("top", ValueKind.Array, ValueKind.String, "Top items (affinity)"),
        ["modelVersion"] = new("modelVersion", ValueKind.String, null, "Model version id"),
        ["scoredAt"] = new("scoredAt", ValueKind.DateTime, null, "When the profile was scored"),
    };

    public static ValueKind KindOf(FieldType t) => t switch
    {
        FieldType.Integer or FieldType.Number => ValueKind.Number,
        FieldType.Boolean => ValueKind.Boolean,
        FieldType.Date => ValueKind.Date,
        FieldType.DateTime => ValueKind.DateTime,
        FieldType.Array => ValueKind.Array,
        FieldType.String => ValueKind.String,
        _ => ValueKind.Scalar,
    };

    /// <summary>Adds the fields of a profile-enabled dataset's schema.</summary>
    public void AddSchema(SchemaDefinition schema)
    {
        var target = schema.Class == SchemaClass.Event ? EventFields : Attributes;
        foreach (var f in schema.Fields)
        {
            if (schema.Class == SchemaClass.Event && f.Path is SchemaDefinition.TimestampField or SchemaDefinition.EventTypeField) continue;
            if (f.Path == "insights" || f.Path.StartsWith("insights.", StringComparison.Ordinal)) continue;
            if (f.Type == FieldType.Map)
            {
                if (schema.Class != SchemaClass.Event) Maps[f.Path] = f.ValueType is { } vt ? KindOf(vt) : ValueKind.Scalar;
                continue;
            }
            if (f.Type == FieldType.Object) continue;
            target[f.Path] = new RuleField(f.Path, KindOf(f.Type), f.Type == FieldType.Array ? (f.ItemType is { } it ? KindOf(it) : ValueKind.Scalar) : null, f.Description);
        }
    }
}

/// <summary>A compiled rule: every field resolved to where it is stored and how it compares, every value typed.</summary>
public abstract record Compiled;
public sealed record CGroup(bool All, IReadOnlyList<Compiled> Children) : Compiled;
public sealed record CNot(Compiled Child) : Compiled;

/// <summary>
/// A comparison of one stored JSON value: <see cref="Key"/> is the key of the flat attributes (or event fields) object,
/// <see cref="Sub"/> a field inside it (insights: <c>insights.churn</c> / <c>score</c>). <see cref="Values"/> hold double,
/// string, bool or DateTimeOffset by <see cref="Kind"/> (for arrays: the item kind).
/// </summary>
public sealed record CValue(string Key, string? Sub, ValueKind Kind, ValueKind? ItemKind, RuleOp Op, IReadOnlyList<object> Values) : Compiled;

public sealed record CIdentity(string Namespace, RuleOp Op, IReadOnlyList<string> Values) : Compiled;

/// <summary>An event condition; the time window is made absolute at evaluation (<see cref="WithinDays"/> counts back from then).</summary>
public sealed record CEvent(string? EventType, int? WithinDays, DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<CValue> Conditions,
    string? SumKey, RuleOp Op, IReadOnlyList<double> Values) : Compiled;

public sealed record CMember(string AudienceId, bool Member) : Compiled;

/// <summary>Checks a parsed rule against a <see cref="RuleCatalog"/> and types its values; every refusal is a 422 naming the part of the rule.</summary>
public static class RuleCompiler
{
    public static Compiled Compile(RuleNode node, RuleCatalog catalog, string? selfId = null)
    {
        var c = Node(node, catalog);
        if (selfId is not null) CheckCycles(node, catalog, selfId);
        return c;
    }

    private static void CheckCycles(RuleNode node, RuleCatalog catalog, string selfId)
    {
        foreach (var m in All(node).OfType<MembershipNode>())
        {
            // Breadth-first from the named audience: the shortest way back to this one, to name the audiences of the cycle.
            var from = new Dictionary<string, string?>(StringComparer.Ordinal) { [m.AudienceId] = null };
            var queue = new Queue<string>([m.AudienceId]);
            while (queue.Count > 0)
            {
                var id = queue.Dequeue();
                if (id == selfId)
                {
                    var path = new List<string>();
                    for (string? at = id; at is not null; at = from[at]) path.Add(at);
                    path.Reverse(); // m.AudienceId ... selfId
                    string Name(string x) => "'" + (catalog.AudienceNames.GetValueOrDefault(x) ?? x) + "'";
                    var cycle = string.Join(" -> ", new[] { selfId }.Concat(path).Select(Name));
                    throw RuleParser.Bad(m.Where, $"An audience cannot contain itself (directly or through other audiences): {cycle}.");
                }
                foreach (var next in catalog.Audiences.GetValueOrDefault(id) ?? [])
                    if (from.TryAdd(next, id)) queue.Enqueue(next);
            }
        }
    }

    private static IEnumerable<RuleNode> All(RuleNode n) => n switch
    {
        GroupNode g => g.Children.SelectMany(All).Prepend(n),
        NotNode x => All(x.Child).Prepend(n),
        _ => [n],
    };

    private static Compiled Node(RuleNode node, RuleCatalog catalog) => node switch
    {
        GroupNode g => new CGroup(g.All, g.Children.Select(c => Node(c, catalog)).ToList()),
        NotNode n => new CNot(Node(n.Child, catalog)),
        AttributeNode a => Attribute(a, catalog),
        IdentityNode i => Identity(i, catalog),
        EventNode e => Event(e, catalog),
        MembershipNode m => catalog.Audiences.ContainsKey(m.AudienceId) ? new CMember(m.AudienceId, m.Member)
            : throw RuleParser.Bad(m.Where + ".audience", $"No audience {m.AudienceId} in this sandbox."),
        _ => throw new InvalidOperationException(),
    };

    private static CValue Attribute(AttributeNode a, RuleCatalog catalog)
    {
        var where = a.Where + ".attribute";
        const string prefix = "insights.";
        if (a.Attribute.StartsWith(prefix, StringComparison.Ordinal))
        {
            var rest = a.Attribute[prefix.Length..];
            // Model names hold no '.', so the first '.' separates the model from its field.
            var dot = rest.IndexOf('.');
            var model = dot < 0 ? rest : rest[..dot];
            if (!catalog.InsightModels.Contains(model))
                throw RuleParser.Bad(where, $"Unknown insight '{model}': no model or score import of this sandbox writes insights.{model}."
                    + (catalog.InsightModels.Count > 0 ? " Known: " + string.Join(", ", catalog.InsightModels.Order(StringComparer.Ordinal)) + "." : ""));
            if (dot < 0)
            {
                if (a.Op is not (RuleOp.Exists or RuleOp.IsEmpty)) throw RuleParser.Bad(a.Where + ".op", $"insights.{model} is an object: name one of its fields (insights.{model}.score ...) or use exists / isEmpty.");
                return new CValue(prefix + model, null, ValueKind.Scalar, null, a.Op, []);
            }
            var fieldName = rest[(dot + 1)..];
            if (fieldName.Length == 0 || fieldName.Contains('.')) throw RuleParser.Bad(where, $"Expected insights.{model}.<field>, e.g. insights.{model}.score.");
            var f = RuleCatalog.InsightFieldKinds.GetValueOrDefault(fieldName) ?? new RuleField(fieldName, ValueKind.Scalar);
            return Value(a.Where, prefix + model, fieldName, f.Kind, f.ItemKind, a.Op, a.Value, a.Attribute);
        }
        if (catalog.Attributes.TryGetValue(a.Attribute, out var field))
            return Value(a.Where, a.Attribute, null, field.Kind, field.ItemKind, a.Op, a.Value, a.Attribute);
        foreach (var (map, kind) in catalog.Maps)
            if (a.Attribute.Length > map.Length + 1 && a.Attribute.StartsWith(map + ".", StringComparison.Ordinal))
                return Value(a.Where, a.Attribute, null, kind, kind == ValueKind.Array ? ValueKind.Scalar : null, a.Op, a.Value, a.Attribute);
        throw RuleParser.Bad(where, $"Unknown attribute '{a.Attribute}': no schema of a profile-enabled dataset of this sandbox has it.");
    }

    private static CIdentity Identity(IdentityNode i, RuleCatalog catalog)
    {
        if (!catalog.Namespaces.Contains(i.Namespace)) throw RuleParser.Bad(i.Where + ".identity", $"Unknown identity namespace '{i.Namespace}'.");
        var code = catalog.Namespaces.First(n => string.Equals(n, i.Namespace, StringComparison.OrdinalIgnoreCase));
        var values = i.Op switch
        {
            RuleOp.Exists or RuleOp.IsEmpty => [],
            RuleOp.Eq or RuleOp.StartsWith or RuleOp.Contains => [Str(i.Value, i.Where + ".value")],
            RuleOp.In => List(i.Value, i.Where + ".value").Select((v, k) => Str(v, $"{i.Where}.value[{k}]")).ToList(),
            _ => throw RuleParser.Bad(i.Where + ".op", $"An identity condition takes exists, isEmpty, eq, in, startsWith or contains, not {RuleParser.Name(i.Op)}."),
        };
        return new CIdentity(code, i.Op, values);
    }

    private static CEvent Event(EventNode e, RuleCatalog catalog)
    {
        var conditions = new List<CValue>();
        foreach (var c in e.Conditions)
        {
            if (!catalog.EventFields.TryGetValue(c.Field, out var f))
                throw RuleParser.Bad(c.Where + ".field", $"Unknown event field '{c.Field}': no event schema of a profile-enabled dataset of this sandbox has it.");
            conditions.Add(Value(c.Where, c.Field, null, f.Kind, f.ItemKind, c.Op, c.Value, c.Field));
        }
        string? sumKey = null;
        if (e.Sum)
        {
            if (!catalog.EventFields.TryGetValue(e.SumField!, out var f))
                throw RuleParser.Bad(e.Where + ".event.field", $"Unknown event field '{e.SumField}'.");
            if (f.Kind != ValueKind.Number) throw RuleParser.Bad(e.Where + ".event.field", $"Only a numeric field can be summed; '{e.SumField}' is {f.Kind.ToString().ToLowerInvariant()}.");
            sumKey = f.Path;
        }
        var values = e.Op switch
        {
            RuleOp.Exists or RuleOp.None => (IReadOnlyList<double>)[],
            RuleOp.Between => Pair(e.Value, e.Where + ".value").Select(v => Num(v, e.Where + ".value")).ToList(),
            _ => [Num(e.Value, e.Where + ".value")],
        };
        if (e.Op == RuleOp.Between && values[0] > values[1]) throw RuleParser.Bad(e.Where + ".value", "between needs [low, high] with low <= high.");
        return new CEvent(e.EventType, e.WithinDays, e.From, e.To, conditions, sumKey, e.Op, values);
    }

    /// <summary>Types the value(s) of a comparison of a field of kind <paramref name="kind"/>.</summary>
    private static CValue Value(string where, string key, string? sub, ValueKind kind, ValueKind? itemKind, RuleOp op, JsonNode? value, string name)
    {
        var vw = where + ".value";
        if (op is RuleOp.None or RuleOp.NotIn) throw RuleParser.Bad(where + ".op", $"{RuleParser.Name(op)} is not an operator of an attribute.");
        if (op is RuleOp.Exists or RuleOp.IsEmpty) return new CValue(key, sub, kind, itemKind, op, []);
        if (kind == ValueKind.Array)
        {
            if (op is not (RuleOp.Contains or RuleOp.In))
                throw RuleParser.Bad(where + ".op", $"'{name}' is a list: use contains, in (any item in the list), exists or isEmpty, not {RuleParser.Name(op)}.");
            var items = op == RuleOp.In ? List(value, vw) : [value];
            var ik = itemKind is null or ValueKind.Scalar ? (items.FirstOrDefault() is JsonValue jv && jv.TryGetValue<double>(out _) ? ValueKind.Number : ValueKind.String) : itemKind.Value;
            if (ik is not (ValueKind.Number or ValueKind.String)) ik = ValueKind.String;
            return new CValue(key, sub, kind, ik, op, items.Select((v, i) => Typed(v, ik, op == RuleOp.In ? $"{vw}[{i}]" : vw, name)).ToList());
        }
        if (kind == ValueKind.Scalar)
        {
            // The value decides: numbers compare as numbers, text as text.
            var first = op is RuleOp.In or RuleOp.Between ? (value as JsonArray)?.FirstOrDefault() : value;
            kind = first is JsonValue fv && fv.TryGetValue<double>(out _) ? ValueKind.Number
                : first is JsonValue bv && bv.TryGetValue<bool>(out _) ? ValueKind.Boolean : ValueKind.String;
        }
        switch (op)
        {
            case RuleOp.Contains or RuleOp.StartsWith:
                if (kind != ValueKind.String) throw RuleParser.Bad(where + ".op", $"{RuleParser.Name(op)} compares text, but '{name}' is {Describe(kind)}.");
                return new CValue(key, sub, kind, null, op, [Typed(value, kind, vw, name)]);
            case RuleOp.Gt or RuleOp.Gte or RuleOp.Lt or RuleOp.Lte or RuleOp.Between when kind == ValueKind.Boolean:
                throw RuleParser.Bad(where + ".op", $"'{name}' is true or false: use eq or ne.");
            case RuleOp.Between:
                var pair = Pair(value, vw).Select((v, i) => Typed(v, kind, $"{vw}[{i}]", name)).ToList();
                if (Comparer.Compare(pair[0], pair[1]) > 0) throw RuleParser.Bad(vw, "between needs [low, high] with low <= high.");
                return new CValue(key, sub, kind, null, op, pair);
            case RuleOp.In:
                return new CValue(key, sub, kind, null, op, List(value, vw).Select((v, i) => Typed(v, kind, $"{vw}[{i}]", name)).ToList());
            default:
                return new CValue(key, sub, kind, null, op, [Typed(value, kind, vw, name)]);
        }
    }

    private static readonly Comparer<object> Comparer = Comparer<object>.Create((a, b) => a switch
    {
        double x => x.CompareTo((double)b),
        string s => string.CompareOrdinal(s, (string)b),
        DateTimeOffset t => t.CompareTo((DateTimeOffset)b),
        _ => 0,
    });

    private static string Describe(ValueKind k) => k switch
    {
        ValueKind.Number => "a number",
        ValueKind.String => "text",
        ValueKind.Boolean => "true or false",
        ValueKind.Date => "a date",
        ValueKind.DateTime => "a date-time",
        ValueKind.Array => "a list",
        _ => "a value",
    };

    private static object Typed(JsonNode? v, ValueKind kind, string where, string name)
    {
        if (v is not JsonValue jv) throw RuleParser.Bad(where, v is null ? $"A value is required to compare '{name}'." : $"Expected a single value to compare with '{name}', {Describe(kind)}.");
        switch (kind)
        {
            case ValueKind.Number:
                if (jv.TryGetValue<double>(out var d) && double.IsFinite(d)) return d;
                throw RuleParser.Bad(where, $"'{name}' is a number, but the rule compares it with {Shape(jv)}.");
            case ValueKind.Boolean:
                if (jv.TryGetValue<bool>(out var b)) return b;
                throw RuleParser.Bad(where, $"'{name}' is true or false, but the rule compares it with {Shape(jv)}.");
            case ValueKind.Date:
                if (jv.TryGetValue<string>(out var ds) && DateOnly.TryParseExact(ds, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                    return date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                throw RuleParser.Bad(where, $"'{name}' is a date: give it as yyyy-MM-dd, not {Shape(jv)}.");
            case ValueKind.DateTime:
                if (jv.TryGetValue<string>(out var ts) && DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return t.ToUniversalTime();
                throw RuleParser.Bad(where, $"'{name}' is a date-time: give it in ISO 8601, not {Shape(jv)}.");
            default:
                if (jv.TryGetValue<string>(out var s)) return s;
                throw RuleParser.Bad(where, $"'{name}' is text, but the rule compares it with {Shape(jv)}.");
        }
    }

    private static string Shape(JsonValue v) =>
        v.TryGetValue<string>(out var s) ? $"the text \"{s}\"" : v.TryGetValue<bool>(out var b) ? (b ? "true" : "false") : v.TryGetValue<double>(out var d) ? $"the number {d.ToString(CultureInfo.InvariantCulture)}" : v.ToJsonString();

    private static List<JsonNode?> List(JsonNode? v, string where) =>
        v is JsonArray a && a.Count > 0 && a.Count <= 1000 ? a.ToList() : throw RuleParser.Bad(where, "Expected a list of 1 to 1000 values.");

    private static List<JsonNode?> Pair(JsonNode? v, string where) =>
        v is JsonArray a && a.Count == 2 ? a.ToList() : throw RuleParser.Bad(where, "between needs a list of two values [low, high].");

    private static string Str(JsonNode? v, string where) =>
        v is JsonValue jv && jv.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw RuleParser.Bad(where, "Expected a non-empty text value.");

    private static double Num(JsonNode? v, string where) =>
        v is JsonValue jv && jv.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : throw RuleParser.Bad(where, "An event count or sum compares with a number.");
}
