using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>
/// Comparison operators of a rule. JSON names: <c>eq ne gt gte lt lte between in contains startsWith exists isEmpty</c>
/// (also <c>= != &gt; &gt;= &lt; &lt;=</c>); events add <c>none</c>, audience membership <c>in</c> / <c>notIn</c>.
/// </summary>
public enum RuleOp { Eq, Ne, Gt, Gte, Lt, Lte, Between, In, Contains, StartsWith, Exists, IsEmpty, None, NotIn }

/// <summary>A node of an audience rule, as parsed from JSON. <see cref="Where"/> is its JSON path inside the rule (<c>rule.all[1]</c>): 422s name it.</summary>
public abstract record RuleNode(string Where);

/// <summary><c>{ "all": [...] }</c> or <c>{ "any": [...] }</c>.</summary>
public sealed record GroupNode(string Where, bool All, IReadOnlyList<RuleNode> Children) : RuleNode(Where);

/// <summary><c>{ "not": { ... } }</c>.</summary>
public sealed record NotNode(string Where, RuleNode Child) : RuleNode(Where);

/// <summary><c>{ "attribute": "loyalty.tier" | "insights.churn.score", "op": ..., "value": ... }</c>.</summary>
public sealed record AttributeNode(string Where, string Attribute, RuleOp Op, JsonNode? Value) : RuleNode(Where);

/// <summary><c>{ "identity": "Email", "op": "exists" | "isEmpty" | "eq" | "startsWith" | ..., "value": ... }</c>.</summary>
public sealed record IdentityNode(string Where, string Namespace, RuleOp Op, JsonNode? Value) : RuleNode(Where);

/// <summary>A condition on an event field inside an event condition: <c>{ "field": "amount", "op": "gt", "value": 10 }</c>.</summary>
public sealed record EventFieldNode(string Where, string Field, RuleOp Op, JsonNode? Value);

/// <summary>
/// <c>{ "event": { "eventType": "purchase", "withinDays": 30 | "from"/"to", "where": [ field conditions ], "aggregate": "count" | "sum", "field": "amount" }, "op": ..., "value": ... }</c>:
/// <c>exists</c> / <c>none</c>, or a comparison of the count (default) or the sum of a numeric field.
/// </summary>
public sealed record EventNode(string Where, string? EventType, int? WithinDays, DateTimeOffset? From, DateTimeOffset? To,
    IReadOnlyList<EventFieldNode> Conditions, bool Sum, string? SumField, RuleOp Op, JsonNode? Value) : RuleNode(Where);

/// <summary><c>{ "audience": "&lt;id&gt;", "op": "in" | "notIn" }</c> (also <c>"segment"</c>): membership of another audience.</summary>
public sealed record MembershipNode(string Where, string AudienceId, bool Member) : RuleNode(Where);

/// <summary>Parses rule JSON into <see cref="RuleNode"/>s; malformed rules are a 422 naming the part at fault.</summary>
public static class RuleParser
{
    public const int MaxDepth = 32;
    public const int MaxNodes = 500;

    public static RuleNode Parse(JsonNode? rule)
    {
        var count = 0;
        // Re-read from text: values built in code (JsonValue.Create(int)) then read like values parsed from a request.
        if (rule is not null) rule = JsonNode.Parse(rule.ToJsonString());
        return Node(rule, "rule", 0, ref count);
    }

    public static RuleNode Parse(string json)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 128 }); }
        catch (JsonException e) { throw Bad("rule", "The rule is not valid JSON: " + e.Message.Split(" Path:")[0]); }
        return Parse(node);
    }

    internal static CatalogException Bad(string where, string message) =>
        CatalogException.Rule($"{where}: {message}", new Dictionary<string, string[]> { [where] = [message] });

    private static RuleNode Node(JsonNode? n, string where, int depth, ref int count)
    {
        if (++count > MaxNodes) throw Bad(where, $"A rule may hold at most {MaxNodes} conditions.");
        if (depth > MaxDepth) throw Bad(where, $"Groups may nest at most {MaxDepth} deep.");
        if (n is not JsonObject o) throw Bad(where, "Expected an object: a group (all / any / not) or a condition (attribute, identity, event, audience).");
        if (o.ContainsKey("all") || o.ContainsKey("any"))
        {
            var isAll = o.ContainsKey("all");
            var key = isAll ? "all" : "any";
            if (o.ContainsKey("all") && o.ContainsKey("any")) throw Bad(where, "A group has either 'all' or 'any', not both.");
            if (o[key] is not JsonArray arr) throw Bad(where + "." + key, "Expected a list of conditions.");
            if (arr.Count == 0) throw Bad(where + "." + key, "A group needs at least one condition.");
            var children = new List<RuleNode>(arr.Count);
            for (var i = 0; i < arr.Count; i++) children.Add(Node(arr[i], $"{where}.{key}[{i}]", depth + 1, ref count));
            return new GroupNode(where, isAll, children);
        }
        if (o.ContainsKey("not")) return new NotNode(where, Node(o["not"], where + ".not", depth + 1, ref count));
        if (o.ContainsKey("attribute"))
        {
            var attr = Text(o["attribute"], where + ".attribute");
            return new AttributeNode(where, attr, Op(o, where), o["value"]?.DeepClone());
        }
        if (o.ContainsKey("identity"))
            return new IdentityNode(where, Text(o["identity"], where + ".identity"), Op(o, where), o["value"]?.DeepClone());
        if (o.ContainsKey("audience") || o.ContainsKey("segment"))
        {
            var key = o.ContainsKey("audience") ? "audience" : "segment";
            var id = Text(o[key], where + "." + key);
            var op = o["op"] is null ? RuleOp.In : Op(o, where);
            if (op is not (RuleOp.In or RuleOp.NotIn)) throw Bad(where + ".op", "Audience membership takes 'in' or 'notIn'.");
            return new MembershipNode(where, id, op == RuleOp.In);
        }
        if (o.ContainsKey("event"))
        {
            var ew = where + ".event";
            if (o["event"] is not JsonObject e) throw Bad(ew, "Expected an object { eventType, withinDays | from / to, where, aggregate, field }.");
            var type = e["eventType"] is null ? null : Text(e["eventType"], ew + ".eventType");
            int? within = null;
            if (e["withinDays"] is { } wd)
            {
                if (wd is not JsonValue v || !v.TryGetValue<double>(out var d) || d != Math.Floor(d) || d < 1 || d > 36500)
                    throw Bad(ew + ".withinDays", "withinDays must be a whole number of days from 1 to 36500.");
                within = (int)d;
            }
            var from = e["from"] is null ? (DateTimeOffset?)null : Time(e["from"], ew + ".from");
            var to = e["to"] is null ? (DateTimeOffset?)null : Time(e["to"], ew + ".to");
            if (within is not null && (from is not null || to is not null)) throw Bad(ew, "Give either withinDays or from / to, not both.");
            if (from is not null && to is not null && from > to) throw Bad(ew + ".from", "from is after to.");
            var conditions = new List<EventFieldNode>();
            if (e["where"] is { } w)
            {
                var list = w is JsonArray a ? a.ToList() : [w];
                for (var i = 0; i < list.Count; i++)
                {
                    var cw = w is JsonArray ? $"{ew}.where[{i}]" : ew + ".where";
                    if (list[i] is not JsonObject c) throw Bad(cw, "Expected { field, op, value }.");
                    conditions.Add(new EventFieldNode(cw, Text(c["field"], cw + ".field"), Op(c, cw), c["value"]?.DeepClone()));
                }
            }
            var aggregate = e["aggregate"] is null ? "count" : Text(e["aggregate"], ew + ".aggregate");
            if (aggregate is not ("count" or "sum")) throw Bad(ew + ".aggregate", "aggregate is 'count' or 'sum'.");
            var sum = aggregate == "sum";
            string? field = null;
            if (sum) field = Text(e["field"], ew + ".field");
            var op = Op(o, where);
            if (op is RuleOp.In or RuleOp.Contains or RuleOp.StartsWith or RuleOp.IsEmpty or RuleOp.NotIn)
                throw Bad(where + ".op", "An event condition takes exists, none, or a comparison (eq ne gt gte lt lte between) of its count or sum.");
            return new EventNode(where, type, within, from, to, conditions, sum, field, op, o["value"]?.DeepClone());
        }
        throw Bad(where, "Unknown condition: expected all, any, not, attribute, identity, event or audience.");
    }

    private static string Text(JsonNode? n, string where) =>
        n is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s.Trim() : throw Bad(where, "Expected a non-empty string.");

    private static DateTimeOffset Time(JsonNode? n, string where) =>
        n is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUniversalTime() : throw Bad(where, "Expected a date or date-time (ISO 8601).");

    private static RuleOp Op(JsonObject o, string where)
    {
        var text = o["op"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return text switch
        {
            "eq" or "=" or "==" or "equals" => RuleOp.Eq,
            "ne" or "!=" or "<>" or "notEquals" => RuleOp.Ne,
            "gt" or ">" => RuleOp.Gt,
            "gte" or ">=" => RuleOp.Gte,
            "lt" or "<" => RuleOp.Lt,
            "lte" or "<=" => RuleOp.Lte,
            "between" => RuleOp.Between,
            "in" => RuleOp.In,
            "notIn" => RuleOp.NotIn,
            "contains" => RuleOp.Contains,
            "startsWith" => RuleOp.StartsWith,
            "exists" => RuleOp.Exists,
            "isEmpty" => RuleOp.IsEmpty,
            "none" => RuleOp.None,
            null => throw Bad(where + ".op", "op is required (eq ne gt gte lt lte between in contains startsWith exists isEmpty)."),
            _ => throw Bad(where + ".op", $"Unknown operator '{text}' (eq ne gt gte lt lte between in contains startsWith exists isEmpty)."),
        };
    }

    /// <summary>The JSON name of an operator.</summary>
    public static string Name(RuleOp op) => op switch
    {
        RuleOp.StartsWith => "startsWith",
        RuleOp.IsEmpty => "isEmpty",
        RuleOp.NotIn => "notIn",
        _ => op.ToString().ToLowerInvariant(),
    };

    /// <summary>The audience ids a rule refers to.</summary>
    public static IEnumerable<string> Memberships(RuleNode node) => node switch
    {
        GroupNode g => g.Children.SelectMany(Memberships),
        NotNode n => Memberships(n.Child),
        MembershipNode m => [m.AudienceId],
        _ => [],
    };
}
