using System.Globalization;
using System.Text;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>
/// Translates a <see cref="Compiled"/> rule into a SQL condition over the profile store, for SQLite (JSON1 functions over
/// the flat attributes text) and PostgreSQL (jsonb). The condition reads the profile row as <c>p</c> with columns
/// <c>p.id</c> and <c>p.a</c> (the attributes: text on SQLite, jsonb on PostgreSQL): use <see cref="From"/> as its FROM.
/// Every leaf is two-valued (missing values are false, never NULL), so <c>not</c> is the exact complement.
/// Semantics (the same as the tests' in-memory evaluator): a comparison holds only for a stored value of the field's kind
/// (a number field holding text matches nothing); <c>ne</c> needs a value; strings compare ordinally; <c>isEmpty</c> is
/// missing, null, "" or []; list fields match <c>contains</c> / <c>in</c> on any item.
/// </summary>
public sealed class RuleSql
{
    private readonly bool sqlite;
    private readonly List<object?> args;
    private readonly DateTimeOffset now;
    private readonly string sandboxParam;

    private readonly Profiles.MergePolicy? policy;

    /// <param name="args">Parameters so far (<c>@p0</c> ...); the translation appends its own.</param>
    /// <param name="policy">The audience's merge policy; null or the sandbox's default: the materialized merge of the profile row.</param>
    public RuleSql(bool sqlite, List<object?> args, string sandboxId, DateTimeOffset now, Profiles.MergePolicy? policy = null)
    {
        this.sqlite = sqlite;
        this.args = args;
        this.now = now;
        this.policy = policy is { IsDefault: false } ? policy : null;
        sandboxParam = Param(sandboxId);
    }

    /// <summary>The profiles of the sandbox as <c>p(id, a)</c>.</summary>
    public string From() => policy is not null ? MergedFrom(policy) : sqlite
        ? $"(SELECT id, attributes AS a FROM profiles WHERE sandbox_id={sandboxParam}) p"
        : $"(SELECT id, attributes::jsonb AS a FROM profiles WHERE sandbox_id={sandboxParam}) p";

    /// <summary>
    /// The profiles as <c>p(id, a)</c> with <c>a</c> the merge of their fragments by a policy other than the default (what
    /// <c>GET /profiles/{id}?mergePolicyId=</c> shows, <see cref="Profiles.AttributeMerger"/>): per flat key the non-null value
    /// of the winning fragment: under dataset precedence the dataset earliest in the order (datasets not in it last), then the
    /// newest written, then the greatest dataset id and record key (the merger applies fragments in the reverse of this order,
    /// the last one winning).
    /// </summary>
    private string MergedFrom(Profiles.MergePolicy mp)
    {
        var rank = "0";
        if (mp.Method == Profiles.MergeMethods.DatasetPrecedence && mp.DatasetOrder.Count > 0)
            rank = "CASE f.dataset_id " + string.Concat(mp.DatasetOrder.Select((d, i) => $"WHEN {Param(d)} THEN {i.ToString(CultureInfo.InvariantCulture)} ")) + "ELSE 2147483647 END";
        if (sqlite)
            return "(SELECT pr.id AS id, (SELECT json_group_object(w.k, CASE WHEN w.t IN ('object','array') THEN json(w.v) WHEN w.t='true' THEN json('true') WHEN w.t='false' THEN json('false') ELSE w.v END) FROM " +
                   $"(SELECT j.key AS k, j.value AS v, j.type AS t, ROW_NUMBER() OVER (PARTITION BY j.key ORDER BY {rank}, f.written_at DESC, f.dataset_id DESC, f.record_key DESC) AS rn " +
                   $"FROM profile_fragments f, json_each(f.attributes) j WHERE f.sandbox_id={sandboxParam} AND f.profile_id=pr.id AND j.type<>'null') w WHERE w.rn=1) AS a " +
                   $"FROM profiles pr WHERE pr.sandbox_id={sandboxParam}) p";
        return "(SELECT pr.id AS id, COALESCE((SELECT jsonb_object_agg(w.k, w.v) FROM " +
               $"(SELECT DISTINCT ON (j.key) j.key AS k, j.value AS v FROM profile_fragments f, jsonb_each(f.attributes::jsonb) j " +
               $"WHERE f.sandbox_id={sandboxParam} AND f.profile_id=pr.id AND jsonb_typeof(j.value)<>'null' " +
               $"ORDER BY j.key, {rank}, f.written_at DESC, f.dataset_id COLLATE \"C\" DESC, f.record_key COLLATE \"C\" DESC) w), '{{}}'::jsonb) AS a " +
               $"FROM profiles pr WHERE pr.sandbox_id={sandboxParam}) p";
    }

    public string SandboxParam => sandboxParam;

    public string Param(object? value)
    {
        args.Add(value);
        return "@p" + (args.Count - 1).ToString(CultureInfo.InvariantCulture);
    }

    private object TimeArg(DateTimeOffset t) => sqlite ? t.UtcTicks : t.ToUniversalTime();

    public string Where(Compiled c) => c switch
    {
        CGroup g => "(" + string.Join(g.All ? " AND " : " OR ", g.Children.Select(Where)) + ")",
        CNot n => "(NOT " + Where(n.Child) + ")",
        CValue v => Leaf(v, "p.a"),
        CIdentity i => Identity(i),
        CEvent e => Event(e),
        CMember m => $"{(m.Member ? "" : "NOT ")}EXISTS (SELECT 1 FROM audience_members m WHERE m.audience_id={Param(m.AudienceId)} AND m.profile_id=p.id)",
        _ => throw new InvalidOperationException(),
    };

    private string Bool(string expr) => sqlite ? $"COALESCE(({expr}),0)" : $"COALESCE(({expr}),false)";

    private static string Lit(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>One comparison of a value of the flat JSON object <paramref name="obj"/>.</summary>
    private string Leaf(CValue v, string obj)
    {
        string type, x, node = "";
        if (sqlite)
        {
            var path = "$.\"" + v.Key.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"" + (v.Sub is null ? "" : ".\"" + v.Sub.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"");
            var pp = Param(path);
            type = $"json_type({obj},{pp})";
            x = $"json_extract({obj},{pp})";
            if (v.Kind == ValueKind.Array && v.Op is RuleOp.Contains or RuleOp.In)
            {
                var cond = ItemCondition(v, "j.value", "j.type");
                return Bool($"{type}='array' AND EXISTS (SELECT 1 FROM json_each({obj},{pp}) j WHERE {cond})");
            }
            if (v.Op == RuleOp.IsEmpty)
                return Bool($"{type} IS NULL OR {type}='null' OR ({type}='text' AND {x}='') OR ({type}='array' AND json_array_length({obj},{pp})=0)");
        }
        else
        {
            node = $"({obj}->{Lit(v.Key)}" + (v.Sub is null ? ")" : $"->{Lit(v.Sub)})");
            type = $"jsonb_typeof{node}";
            x = v.Sub is null ? $"({obj}->>{Lit(v.Key)})" : $"({obj}->{Lit(v.Key)}->>{Lit(v.Sub)})";
            if (v.Kind == ValueKind.Array && v.Op is RuleOp.Contains or RuleOp.In)
            {
                var cond = ItemCondition(v, "j.v", "jsonb_typeof(j.v)");
                return Bool($"{type}='array' AND EXISTS (SELECT 1 FROM jsonb_array_elements({node}) j(v) WHERE {cond})");
            }
            if (v.Op == RuleOp.IsEmpty)
                return Bool($"{node} IS NULL OR {type}='null' OR ({type}='string' AND {x}='') OR ({type}='array' AND jsonb_array_length{node}=0)");
        }
        if (v.Op == RuleOp.Exists) return Bool($"{type} IS NOT NULL AND {type}<>'null'");
        return Bool(Compare(v.Kind, v.Op, v.Values, type, x, node));
    }

    /// <summary>The condition on one array item (<paramref name="value"/> of JSON type <paramref name="type"/>) for contains / in.</summary>
    private string ItemCondition(CValue v, string value, string type)
    {
        var number = v.ItemKind == ValueKind.Number;
        var typeOk = sqlite ? (number ? $"{type} IN ('integer','real')" : $"{type}='text'") : (number ? $"{type}='number'" : $"{type}='string'");
        var item = sqlite ? value : number ? $"({value})::float8" : $"({value} #>> '{{}}')";
        var list = string.Join(",", v.Values.Select(Param));
        return v.Values.Count == 1 ? $"{typeOk} AND {item}={list}" : $"{typeOk} AND {item} IN ({list})";
    }

    private string Compare(ValueKind kind, RuleOp op, IReadOnlyList<object> values, string type, string x, string node)
    {
        string typeOk, left;
        switch (kind)
        {
            case ValueKind.Number:
                typeOk = sqlite ? $"{type} IN ('integer','real')" : $"{type}='number'";
                left = sqlite ? x : $"{node}::float8";
                break;
            case ValueKind.Boolean:
                typeOk = sqlite ? $"{type} IN ('true','false')" : $"{type}='boolean'";
                left = sqlite ? $"({type}='true')" : $"{node}::boolean";
                values = values.Select(b => (object)(sqlite ? ((bool)b ? 1 : 0) : b)).ToList();
                break;
            case ValueKind.DateTime:
                if (sqlite)
                {
                    typeOk = $"{type}='text' AND julianday({x}) IS NOT NULL";
                    left = $"julianday({x})";
                    values = values.Select(t => (object)((DateTimeOffset)t).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).ToList();
                    return typeOk + " AND " + Op(left, op, values.Select(v => $"julianday({Param(v)})").ToList());
                }
                typeOk = $"{type}='string' AND {x} ~ '^\\d{{4}}-\\d\\d-\\d\\d([T ]\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?)?(Z|[+-]\\d\\d(:?\\d\\d)?)?$'";
                left = $"(CASE WHEN {x} ~ '^\\d{{4}}-\\d\\d-\\d\\d([T ]\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?)?(Z|[+-]\\d\\d(:?\\d\\d)?)?$' THEN ({x})::timestamptz END)";
                break;
            default: // String, Date (yyyy-MM-dd sorts as text)
                typeOk = sqlite ? $"{type}='text'" : $"{type}='string'";
                left = sqlite ? x : $"{x} COLLATE \"C\"";
                if (op == RuleOp.Contains)
                    return typeOk + " AND " + (sqlite ? $"instr({x},{Param(values[0])})>0" : $"strpos({x},{Param(values[0])})>0");
                if (op == RuleOp.StartsWith)
                {
                    var p = Param(values[0]);
                    return typeOk + " AND " + (sqlite ? $"substr({x},1,length({p}))={p}" : $"left({x},length({p}))={p}");
                }
                break;
        }
        return typeOk + " AND " + Op(left, op, values.Select(Param).ToList());
    }

    private static string Op(string left, RuleOp op, IReadOnlyList<string> p) => op switch
    {
        RuleOp.Eq => $"{left}={p[0]}",
        RuleOp.Ne => $"{left}<>{p[0]}",
        RuleOp.Gt => $"{left}>{p[0]}",
        RuleOp.Gte => $"{left}>={p[0]}",
        RuleOp.Lt => $"{left}<{p[0]}",
        RuleOp.Lte => $"{left}<={p[0]}",
        RuleOp.Between => $"{left}>={p[0]} AND {left}<={p[1]}",
        RuleOp.In => $"{left} IN ({string.Join(",", p)})",
        _ => throw new InvalidOperationException($"Operator {op} has no comparison form."),
    };

    private string Identity(CIdentity i)
    {
        var sb = new StringBuilder($"EXISTS (SELECT 1 FROM profile_identities i WHERE i.sandbox_id={sandboxParam} AND i.profile_id=p.id AND i.namespace={Param(i.Namespace)}");
        switch (i.Op)
        {
            case RuleOp.Eq: sb.Append($" AND i.value={Param(i.Values[0])}"); break;
            case RuleOp.In: sb.Append($" AND i.value IN ({string.Join(",", i.Values.Select(Param))})"); break;
            case RuleOp.StartsWith:
                var p = Param(i.Values[0]);
                sb.Append(sqlite ? $" AND substr(i.value,1,length({p}))={p}" : $" AND left(i.value,length({p}))={p}");
                break;
            case RuleOp.Contains: sb.Append(sqlite ? $" AND instr(i.value,{Param(i.Values[0])})>0" : $" AND strpos(i.value,{Param(i.Values[0])})>0"); break;
        }
        sb.Append(')');
        return i.Op == RuleOp.IsEmpty ? "NOT " + sb : sb.ToString();
    }

    private string Event(CEvent e)
    {
        var obj = sqlite ? "e.fields" : "e.fields::jsonb";
        var sb = new StringBuilder($"FROM profile_events e WHERE e.sandbox_id={sandboxParam} AND e.profile_id=p.id");
        if (e.EventType is not null) sb.Append($" AND e.event_type={Param(e.EventType)}");
        var from = e.WithinDays is { } d ? now.AddDays(-d) : e.From;
        if (from is { } f) sb.Append($" AND e.timestamp>={Param(TimeArg(f))}");
        if (e.To is { } t) sb.Append($" AND e.timestamp<={Param(TimeArg(t))}");
        foreach (var c in e.Conditions) sb.Append(" AND ").Append(Leaf(c, obj));
        switch (e.Op)
        {
            case RuleOp.Exists: return $"EXISTS (SELECT 1 {sb})";
            case RuleOp.None: return $"NOT EXISTS (SELECT 1 {sb})";
        }
        string agg;
        if (e.SumKey is null) agg = $"(SELECT COUNT(*) {sb})";
        else if (sqlite)
        {
            var pp = Param("$.\"" + e.SumKey.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"");
            agg = $"(SELECT COALESCE(SUM(CASE WHEN json_type({obj},{pp}) IN ('integer','real') THEN json_extract({obj},{pp}) END),0) {sb})";
        }
        else
        {
            var n = $"({obj}->{Lit(e.SumKey)})";
            agg = $"(SELECT COALESCE(SUM(CASE WHEN jsonb_typeof{n}='number' THEN {n}::float8 END),0) {sb})";
        }
        return Op(agg, e.Op, e.Values.Select(v => Param(v)).ToList());
    }
}
