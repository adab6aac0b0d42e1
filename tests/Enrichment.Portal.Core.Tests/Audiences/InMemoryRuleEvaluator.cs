using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;

namespace Enrichment.Portal.Core.Tests.Audiences;

/// <summary>A profile as the in-memory evaluator sees it: flat attributes, identities, events and audience memberships.</summary>
internal sealed record MemProfile(string Id, Dictionary<string, JsonNode?> Attributes, List<(string Ns, string Value)> Identities,
    List<MemEvent> Events, HashSet<string> Audiences);

internal sealed record MemEvent(string Type, DateTimeOffset At, Dictionary<string, JsonNode?> Fields);

/// <summary>
/// The definition of a rule's meaning, written independently of the SQL (tests only): a comparison holds for a stored value
/// of the field's kind only, <c>ne</c> needs a value, strings compare ordinally, isEmpty = missing / null / "" / [], lists
/// match contains / in on any item.
/// </summary>
internal static class InMemoryRuleEvaluator
{
    public static bool Matches(Compiled rule, MemProfile p, DateTimeOffset now) => rule switch
    {
        CGroup g => g.All ? g.Children.All(c => Matches(c, p, now)) : g.Children.Any(c => Matches(c, p, now)),
        CNot n => !Matches(n.Child, p, now),
        CValue v => Leaf(v, p.Attributes),
        CIdentity i => Identity(i, p),
        CEvent e => Event(e, p, now),
        CMember m => p.Audiences.Contains(m.AudienceId) == m.Member,
        _ => throw new InvalidOperationException(),
    };

    private static JsonNode? Get(CValue v, Dictionary<string, JsonNode?> obj)
    {
        if (!obj.TryGetValue(v.Key, out var node)) return null;
        if (v.Sub is null) return node;
        return node is JsonObject o ? o[v.Sub] : null;
    }

    private static JsonValueKind KindOf(JsonNode? n) => n?.GetValueKind() ?? JsonValueKind.Undefined;

    private static bool Leaf(CValue v, Dictionary<string, JsonNode?> obj)
    {
        var node = Get(v, obj);
        var kind = KindOf(node);
        if (v.Op == RuleOp.Exists) return kind is not (JsonValueKind.Undefined or JsonValueKind.Null);
        if (v.Op == RuleOp.IsEmpty)
            return kind is JsonValueKind.Undefined or JsonValueKind.Null
                   || (kind == JsonValueKind.String && node!.GetValue<string>() == "")
                   || (kind == JsonValueKind.Array && node!.AsArray().Count == 0);
        if (v.Kind == ValueKind.Array)
        {
            if (kind != JsonValueKind.Array) return false;
            return node!.AsArray().Any(item => v.ItemKind == ValueKind.Number
                ? KindOf(item) == JsonValueKind.Number && v.Values.Any(x => (double)x == item!.GetValue<double>())
                : KindOf(item) == JsonValueKind.String && v.Values.Any(x => (string)x == item!.GetValue<string>()));
        }
        switch (v.Kind)
        {
            case ValueKind.Number:
                if (kind != JsonValueKind.Number) return false;
                return Compare(v.Op, node!.GetValue<double>(), v.Values.Cast<double>().ToList(), (a, b) => a.CompareTo(b));
            case ValueKind.Boolean:
                if (kind is not (JsonValueKind.True or JsonValueKind.False)) return false;
                return Compare(v.Op, kind == JsonValueKind.True, v.Values.Cast<bool>().ToList(), (a, b) => a.CompareTo(b));
            case ValueKind.DateTime:
                if (kind != JsonValueKind.String || !DateTimeOffset.TryParse(node!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return false;
                return Compare(v.Op, t, v.Values.Cast<DateTimeOffset>().ToList(), (a, b) => a.CompareTo(b));
            default:
                if (kind != JsonValueKind.String) return false;
                var s = node!.GetValue<string>();
                return v.Op switch
                {
                    RuleOp.Contains => s.Contains((string)v.Values[0], StringComparison.Ordinal),
                    RuleOp.StartsWith => s.StartsWith((string)v.Values[0], StringComparison.Ordinal),
                    _ => Compare(v.Op, s, v.Values.Cast<string>().ToList(), string.CompareOrdinal),
                };
        }
    }

    private static bool Compare<T>(RuleOp op, T x, IReadOnlyList<T> v, Func<T, T, int> cmp) => op switch
    {
        RuleOp.Eq => cmp(x, v[0]) == 0,
        RuleOp.Ne => cmp(x, v[0]) != 0,
        RuleOp.Gt => cmp(x, v[0]) > 0,
        RuleOp.Gte => cmp(x, v[0]) >= 0,
        RuleOp.Lt => cmp(x, v[0]) < 0,
        RuleOp.Lte => cmp(x, v[0]) <= 0,
        RuleOp.Between => cmp(x, v[0]) >= 0 && cmp(x, v[1]) <= 0,
        RuleOp.In => v.Any(y => cmp(x, y) == 0),
        _ => throw new InvalidOperationException(op.ToString()),
    };

    private static bool Identity(CIdentity i, MemProfile p)
    {
        var values = p.Identities.Where(x => x.Ns == i.Namespace).Select(x => x.Value).ToList();
        return i.Op switch
        {
            RuleOp.Exists => values.Count > 0,
            RuleOp.IsEmpty => values.Count == 0,
            RuleOp.Eq => values.Contains(i.Values[0]),
            RuleOp.In => values.Any(i.Values.Contains),
            RuleOp.StartsWith => values.Any(x => x.StartsWith(i.Values[0], StringComparison.Ordinal)),
            RuleOp.Contains => values.Any(x => x.Contains(i.Values[0], StringComparison.Ordinal)),
            _ => throw new InvalidOperationException(),
        };
    }

    private static bool Event(CEvent e, MemProfile p, DateTimeOffset now)
    {
        var from = e.WithinDays is { } d ? now.AddDays(-d) : e.From;
        var events = p.Events.Where(x => (e.EventType is null || x.Type == e.EventType) && (from is null || x.At >= from) && (e.To is null || x.At <= e.To)
                                         && e.Conditions.All(c => Leaf(c, x.Fields))).ToList();
        if (e.Op == RuleOp.Exists) return events.Count > 0;
        if (e.Op == RuleOp.None) return events.Count == 0;
        var agg = e.SumKey is null ? events.Count
            : events.Sum(x => x.Fields.TryGetValue(e.SumKey, out var n) && KindOf(n) == JsonValueKind.Number ? n!.GetValue<double>() : 0);
        return Compare(e.Op, agg, e.Values, (a, b) => a.CompareTo(b));
    }
}
