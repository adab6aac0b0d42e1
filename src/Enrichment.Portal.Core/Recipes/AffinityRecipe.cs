using System.Globalization;
using DuckDB.NET.Data;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// affinity. Each profile's items (itemField, e.g. category or product) ranked by recency-weighted frequency:
/// weight = Σ 0.5^(age in days / halfLifeDays) over the profile's events before the as-of date (half-life default
/// 30 days: an event a month old counts half). Evaluation: the top N as of the cutoff (default: the newest event
/// minus evaluationDays, 30) against the items each profile touched in the period after it (hit rate@N = share of
/// those profiles with at least one of their top N), compared with the N most popular items for everyone.
/// Association rules (Apriori, single-item consequent) over baskets (basketField, default one basket per profile
/// and day) with minSupport (0.01) and minConfidence (0.25), the top 200 by lift kept in the model.
/// </summary>
internal static class AffinityRecipe
{
    public static string ItemRelation(EventColumns cols, string item, string? basket, IReadOnlyList<string> globs) =>
        $"(SELECT CAST({ModelLake.Quote(cols.Customer)} AS VARCHAR) AS k, TRY_CAST({ModelLake.Quote(cols.Timestamp)} AS TIMESTAMP) AS ts, CAST({ModelLake.Quote(item)} AS VARCHAR) AS item" +
        (basket is null ? "" : $", CAST({ModelLake.Quote(basket)} AS VARCHAR) AS basket") +
        $" FROM {ModelLake.ReadParquet(globs)} WHERE {ModelLake.Quote(cols.Customer)} IS NOT NULL AND {ModelLake.Quote(item)} IS NOT NULL)";

    /// <summary>Top N items per profile as of <paramref name="asOf"/> (ties by item name).</summary>
    public static Dictionary<string, string[]> TopItems(DuckDBConnection c, string relation, DateTime asOf, double halfLife, int topN, CancellationToken ct)
    {
        var a = ModelLake.Ts(asOf);
        var sql = $"""
            SELECT k, item FROM (
              SELECT k, item, sum(pow(0.5, date_diff('second', ts, {a}) / 86400.0 / {halfLife.ToString(CultureInfo.InvariantCulture)})) AS w
              FROM {relation} WHERE ts < {a} GROUP BY k, item)
            QUALIFY row_number() OVER (PARTITION BY k ORDER BY w DESC, item) <= {topN}
            ORDER BY k, w DESC, item
            """;
        var t = ModelLake.Query(c, sql, ct);
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < t.Rows; i++)
        {
            var k = (string)t.Column("k")[i]!;
            if (!result.TryGetValue(k, out var l)) result[k] = l = [];
            l.Add((string)t.Column("item")[i]!);
        }
        return result.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
    }

    public static TrainingOutcome Train(TrainingRun run)
    {
        var p = run.P;
        var events = run.RequireEvents();
        var itemField = p.String("itemField") ?? throw new ModelTrainingException("Parameter 'itemField' is required for affinity.");
        var basketField = p.String("basketField");
        var topN = p.Int("topN") ?? 3;
        if (topN <= 0) throw new ModelTrainingException("Parameter 'topN' must be positive.");
        var halfLife = p.Number("halfLifeDays") ?? 30;
        var evalDays = p.Int("evaluationDays") ?? 30;
        using var c = ModelLake.Open();
        var cols = EventColumns.Resolve(c, events, p, amountRequired: false);
        var present = ModelLake.Describe(c, events.ParquetGlobs).Select(x => x.Name).ToHashSet(StringComparer.Ordinal);
        if (!present.Contains(itemField)) throw new ModelTrainingException($"The event data has no column '{itemField}' (itemField).");
        if (basketField is not null && !present.Contains(basketField)) throw new ModelTrainingException($"The event data has no column '{basketField}' (basketField).");
        var rel = ItemRelation(cols, itemField, basketField, events.ParquetGlobs);
        var maxTs = ModelLake.ToDate(ModelLake.Query(c, $"SELECT max(ts) AS m FROM {rel}").Column("m")[0]) ?? throw new ModelTrainingException("The event data has no timestamped events.");
        var cutoff = p.Date("cutoff") ?? maxTs.Date.AddDays(1 - evalDays);
        var evalEnd = cutoff.AddDays(evalDays);

        run.Step(0.1, "ranking items per profile as of " + cutoff.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        var top = TopItems(c, rel, cutoff, halfLife, topN, run.Ct);
        var popular = ModelLake.Query(c, $"SELECT item FROM {rel} WHERE ts < {ModelLake.Ts(cutoff)} GROUP BY item ORDER BY count(*) DESC, item LIMIT {topN}").Column("item").Select(v => (string)v!).ToArray();
        var later = ModelLake.Query(c, $"SELECT k, list(DISTINCT item) AS items FROM {rel} WHERE ts >= {ModelLake.Ts(cutoff)} AND ts < {ModelLake.Ts(evalEnd)} GROUP BY k ORDER BY k", run.Ct);
        int evaluated = 0, hits = 0, popHits = 0;
        for (var i = 0; i < later.Rows; i++)
        {
            var k = (string)later.Column("k")[i]!;
            if (!top.TryGetValue(k, out var mine)) continue;
            var items = ((System.Collections.IEnumerable)later.Column("items")[i]!).Cast<object>().Select(o => o.ToString()!).ToHashSet(StringComparer.Ordinal);
            evaluated++;
            if (mine.Any(items.Contains)) hits++;
            if (popular.Any(items.Contains)) popHits++;
        }
        if (evaluated == 0) throw new ModelTrainingException($"No profile has events both before and after the evaluation cutoff {cutoff:yyyy-MM-dd}; give a 'cutoff' or more history.");
        double hitRate = (double)hits / evaluated, popRate = (double)popHits / evaluated;
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"hit rate@{topN} {hitRate:F4} vs popularity {popRate:F4} on {evaluated} profiles"));

        run.Step(0.5, "mining association rules");
        var minSupport = p.Number("minSupport") ?? 0.01;
        var minConfidence = p.Number("minConfidence") ?? 0.25;
        var basketKey = basketField is null ? "k || '|' || CAST(CAST(ts AS DATE) AS VARCHAR)" : "basket";
        var basketTable = ModelLake.Query(c, $"SELECT list(DISTINCT item ORDER BY item) AS items FROM {rel} GROUP BY {basketKey} ORDER BY {basketKey}", run.Ct);
        var baskets = basketTable.Column("items").Select(v => (IReadOnlyCollection<string>)((System.Collections.IEnumerable)v!).Cast<object>().Select(o => o.ToString()!).ToArray()).ToArray();
        var rules = Apriori.Rules(baskets, minSupport, minConfidence, ct: run.Ct);
        run.Log.Add($"{baskets.Length} baskets, {rules.Count} rules at support {minSupport}, confidence {minConfidence}");

        var finalPopular = ModelLake.Query(c, $"SELECT item FROM {rel} GROUP BY item ORDER BY count(*) DESC, item LIMIT {topN}").Column("item").Select(v => (string)v!).ToArray();
        var state = new AffinityState(itemField, halfLife, topN, finalPopular, rules.Take(200).ToArray());
        var manifest = new ModelManifest { Recipe = Recipe.Affinity, Trainer = "recency-weighted frequency + Apriori", Events = cols, Affinity = state };
        run.Step(1, "done");
        return new TrainingOutcome
        {
            Recipe = Recipe.Affinity, Trainer = "recency-weighted frequency + Apriori",
            Metrics = new Dictionary<string, double> { ["hitRate"] = hitRate, ["evaluatedProfiles"] = evaluated, ["rules"] = rules.Count, ["baskets"] = baskets.Length },
            Baseline = new Dictionary<string, double> { ["hitRate"] = popRate },
            Grade = Grading.Affinity(hitRate, popRate),
            FittedParameters = new Dictionary<string, double> { ["halfLifeDays"] = halfLife, ["topN"] = topN },
            Log = run.Log, TrainRows = top.Count, TestRows = evaluated,
            Artifact = ModelArtifact.Write(manifest),
        };
    }
}
