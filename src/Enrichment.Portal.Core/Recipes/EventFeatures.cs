using System.Globalization;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>Which event columns a recipe reads.</summary>
public sealed record EventColumns(string Customer, string Timestamp, string? EventType, string? Amount)
{
    /// <summary>From parameters (customerField, timestampField, amountField) with defaults from the event schema:
    /// the primary identity, <c>timestamp</c>, <c>eventType</c>.</summary>
    internal static EventColumns Resolve(DuckDBConnection c, EventSource events, RecipeParameters p, bool amountRequired)
    {
        var cols = ModelLake.Describe(c, events.ParquetGlobs).Select(x => x.Name).ToHashSet(StringComparer.Ordinal);
        var fields = events.Fields ?? [];
        var customer = p.String("customerField")
            ?? fields.FirstOrDefault(f => f.Identity is { Primary: true })?.Path
            ?? fields.FirstOrDefault(f => f.Identity is not null)?.Path
            ?? throw new ModelTrainingException("Parameter 'customerField' is required: the event dataset has no identity field.");
        var ts = p.String("timestampField") ?? SchemaDefinition.TimestampField;
        var type = cols.Contains(SchemaDefinition.EventTypeField) ? SchemaDefinition.EventTypeField : null;
        var amount = p.String("amountField");
        foreach (var (name, what) in new[] { (customer, "customerField"), (ts, "timestampField") })
            if (!cols.Contains(name)) throw new ModelTrainingException($"The event data has no column '{name}' ({what}).");
        if (amount is not null && !cols.Contains(amount)) throw new ModelTrainingException($"The event data has no column '{amount}' (amountField).");
        if (amountRequired && amount is null) throw new ModelTrainingException("Parameter 'amountField' is required for this recipe.");
        return new EventColumns(customer, ts, type, amount);
    }

    /// <summary>A DuckDB relation <c>(k VARCHAR, ts TIMESTAMP, et VARCHAR, amt DOUBLE)</c> over the event files.</summary>
    internal string Relation(IReadOnlyList<string> globs) =>
        $"(SELECT CAST({ModelLake.Quote(Customer)} AS VARCHAR) AS k, TRY_CAST({ModelLake.Quote(Timestamp)} AS TIMESTAMP) AS ts, " +
        $"{(EventType is null ? "NULL" : "CAST(" + ModelLake.Quote(EventType) + " AS VARCHAR)")} AS et, " +
        $"{(Amount is null ? "NULL" : "TRY_CAST(" + ModelLake.Quote(Amount) + " AS DOUBLE)")} AS amt " +
        $"FROM {ModelLake.ReadParquet(globs)} WHERE {ModelLake.Quote(Customer)} IS NOT NULL)";
}

/// <summary>
/// Per-profile event aggregates as of a cutoff. Only events strictly before the cutoff enter (the SQL filters
/// <c>ts &lt; cutoff</c> before aggregating): recency (days since the last event), frequency (events), active days,
/// monetary (sum of amount), days since first seen, events in the last 30/90/365 days, and per event type
/// (the most frequent types before the cutoff, at most 8) counts over 30/90/365 days.
/// </summary>
internal static class EventFeatures
{
    public static readonly int[] Windows = [30, 90, 365];

    public static IReadOnlyList<string> TopEventTypes(DuckDBConnection c, EventColumns cols, IReadOnlyList<string> globs, DateTime cutoff)
    {
        if (cols.EventType is null) return [];
        var t = ModelLake.Query(c, $"SELECT et FROM {cols.Relation(globs)} WHERE ts < {ModelLake.Ts(cutoff)} AND et IS NOT NULL GROUP BY et ORDER BY count(*) DESC, et LIMIT 8");
        return t.Column("et").Select(v => (string)v!).ToArray();
    }

    /// <summary>Feature column names (besides the key <c>k</c>).</summary>
    public static IReadOnlyList<string> Names(IReadOnlyList<string> eventTypes)
    {
        var names = new List<string> { "ev_recency_days", "ev_frequency", "ev_active_days", "ev_monetary", "ev_days_since_first" };
        names.AddRange(Windows.Select(w => $"ev_count_{w}d"));
        for (var i = 0; i < eventTypes.Count; i++) names.AddRange(Windows.Select(w => $"ev_type{i}_{w}d"));
        return names;
    }

    /// <summary>SQL of the aggregate relation (column <c>k</c> + <see cref="Names"/>).</summary>
    public static string Sql(EventColumns cols, IReadOnlyList<string> globs, DateTime cutoff, IReadOnlyList<string> eventTypes)
    {
        var c = ModelLake.Ts(cutoff);
        var parts = new List<string>
        {
            "k",
            $"date_diff('second', max(ts), {c}) / 86400.0 AS ev_recency_days",
            "count(*)::DOUBLE AS ev_frequency",
            "count(DISTINCT CAST(ts AS DATE))::DOUBLE AS ev_active_days",
            "coalesce(sum(amt), 0)::DOUBLE AS ev_monetary",
            $"date_diff('second', min(ts), {c}) / 86400.0 AS ev_days_since_first",
        };
        parts.AddRange(Windows.Select(w => $"(count(*) FILTER (WHERE ts >= {c} - INTERVAL {w} DAY))::DOUBLE AS ev_count_{w}d"));
        for (var i = 0; i < eventTypes.Count; i++)
            parts.AddRange(Windows.Select(w => $"(count(*) FILTER (WHERE et = {ModelLake.Literal(eventTypes[i])} AND ts >= {c} - INTERVAL {w} DAY))::DOUBLE AS ev_type{i}_{w}d"));
        return $"(SELECT {string.Join(", ", parts)} FROM {cols.Relation(globs)} WHERE ts < {c} GROUP BY k)";
    }

    /// <summary>The same aggregates computed in memory for one profile's events (one-profile scoring).</summary>
    public static Dictionary<string, object?> InMemory(IEnumerable<IReadOnlyDictionary<string, object?>> events, EventColumns cols, DateTime cutoff, IReadOnlyList<string> eventTypes)
    {
        var list = events.Select(e => (ts: ModelLake.ToDate(e.GetValueOrDefault(cols.Timestamp)),
                et: cols.EventType is null ? null : ModelLake.ToText(e.GetValueOrDefault(cols.EventType)),
                amt: cols.Amount is null ? null : ModelLake.ToDouble(e.GetValueOrDefault(cols.Amount))))
            .Where(e => e.ts is not null && e.ts < cutoff).Select(e => (ts: e.ts!.Value, e.et, e.amt)).ToList();
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (list.Count == 0) return d;
        d["ev_recency_days"] = Math.Floor((cutoff - list.Max(e => e.ts)).TotalSeconds) / 86400.0;
        d["ev_frequency"] = (double)list.Count;
        d["ev_active_days"] = (double)list.Select(e => e.ts.Date).Distinct().Count();
        d["ev_monetary"] = list.Sum(e => e.amt ?? 0);
        d["ev_days_since_first"] = Math.Floor((cutoff - list.Min(e => e.ts)).TotalSeconds) / 86400.0;
        foreach (var w in Windows) d[$"ev_count_{w}d"] = (double)list.Count(e => e.ts >= cutoff.AddDays(-w));
        for (var i = 0; i < eventTypes.Count; i++)
            foreach (var w in Windows) d[$"ev_type{i}_{w}d"] = (double)list.Count(e => e.et == eventTypes[i] && e.ts >= cutoff.AddDays(-w));
        return d;
    }

    public static string Describe(IReadOnlyList<string> eventTypes) =>
        string.Join(", ", eventTypes.Select((t, i) => string.Create(CultureInfo.InvariantCulture, $"ev_type{i} = {t}")));
}
