using System.Globalization;
using DuckDB.NET.Data;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// engagement. Per profile, as of a date: recency R (days since the last event), frequency F (events) and monetary
/// M (sum of amountField, when given). Each becomes a quintile score 1-5 against cut points learned at training
/// (recency: more recent = higher). Engagement = 100 x ((R-1) + (F-1) + (M-1)) / 12, or 100 x ((R-1) + (F-1)) / 8
/// without an amount; 0 = least engaged, 100 = top quintile on every axis. Evaluated as the AUC of the score computed
/// windowDays (90) before the newest event for "any event in those last windowDays".
/// </summary>
internal static class EngagementRecipe
{
    internal sealed record Rfm(string Key, double Recency, double Frequency, double Monetary);

    public static IReadOnlyList<Rfm> Compute(DuckDBConnection c, EventColumns cols, IReadOnlyList<string> globs, DateTime asOf, CancellationToken ct)
    {
        var a = ModelLake.Ts(asOf);
        var t = ModelLake.Query(c, $"SELECT k, date_diff('second', max(ts), {a}) / 86400.0 AS r, count(*)::DOUBLE AS f, coalesce(sum(amt), 0)::DOUBLE AS m FROM {cols.Relation(globs)} WHERE ts < {a} GROUP BY k ORDER BY k", ct);
        return Enumerable.Range(0, t.Rows).Select(i => new Rfm((string)t.Column("k")[i]!, (double)t.Column("r")[i]!, (double)t.Column("f")[i]!, (double)t.Column("m")[i]!)).ToArray();
    }

    public static double[] Cuts(IEnumerable<double> values)
    {
        var s = values.OrderBy(v => v).ToArray();
        return s.Length == 0 ? [] : [.. Enumerable.Range(1, 4).Select(q => s[Math.Min(s.Length - 1, q * s.Length / 5)])];
    }

    /// <summary>Quintile score 1-5: 1 + number of cut points strictly below the value (inverted for recency).</summary>
    public static int Quintile(double v, IReadOnlyList<double> cuts, bool lowerIsBetter)
    {
        var above = cuts.Count(c => v > c);
        return lowerIsBetter ? 5 - above : 1 + above;
    }

    public static EngagementState Learn(IReadOnlyList<Rfm> rfm, bool monetary) =>
        new(Cuts(rfm.Select(x => x.Recency)), Cuts(rfm.Select(x => x.Frequency)), monetary ? Cuts(rfm.Select(x => x.Monetary)) : null);

    /// <summary>The documented 0-100 formula.</summary>
    public static double Score(EngagementState s, double recency, double frequency, double monetary)
    {
        var r = Quintile(recency, s.RecencyCuts, lowerIsBetter: true);
        var f = Quintile(frequency, s.FrequencyCuts, lowerIsBetter: false);
        if (s.MonetaryCuts is null) return 100.0 * (r - 1 + f - 1) / 8;
        var m = Quintile(monetary, s.MonetaryCuts, lowerIsBetter: false);
        return 100.0 * (r - 1 + f - 1 + m - 1) / 12;
    }

    /// <summary>Permutation importance of the three axes: the drop of the next-window AUC when one axis's values are shuffled among
    /// the profiles (the others kept), on the evaluation as of windowDays before the cutoff.</summary>
    internal static IReadOnlyList<FeatureImportance> Importance(IReadOnlyList<Rfm> rows, EngagementState state, bool[] labels, double auc, Random rng)
    {
        var axes = new List<(string Name, Func<Rfm, double, Rfm> With, Func<Rfm, double> Get)>
        {
            ("recency (days since the last event)", (x, v) => x with { Recency = v }, x => x.Recency),
            ("frequency (events)", (x, v) => x with { Frequency = v }, x => x.Frequency),
        };
        if (state.MonetaryCuts is not null) axes.Add(("monetary (spend)", (x, v) => x with { Monetary = v }, x => x.Monetary));
        var result = new List<FeatureImportance>();
        foreach (var (name, with, get) in axes)
        {
            var perm = Enumerable.Range(0, rows.Count).ToArray();
            rng.Shuffle(perm);
            var scores = rows.Select((x, i) => with(x, get(rows[perm[i]]))).Select(x => Score(state, x.Recency, x.Frequency, x.Monetary)).ToArray();
            result.Add(new FeatureImportance(name, auc - Metrics.Auc(scores, labels)));
        }
        return result.OrderByDescending(f => f.Importance).ToArray();
    }

    public static TrainingOutcome Train(TrainingRun run)
    {
        var p = run.P;
        var events = run.RequireEvents();
        using var c = ModelLake.Open();
        var cols = EventColumns.Resolve(c, events, p, amountRequired: false);
        var maxTs = ModelLake.ToDate(ModelLake.Query(c, $"SELECT max(ts) AS m FROM {cols.Relation(events.ParquetGlobs)}").Column("m")[0])
                    ?? throw new ModelTrainingException("The event data has no timestamped events.");
        var asOf = p.Date("cutoff") ?? maxTs.Date.AddDays(1);
        var window = p.Int("windowDays") ?? 90;
        run.Step(0.2, "evaluating the score " + window + " days earlier");
        var before = Compute(c, cols, events.ParquetGlobs, asOf.AddDays(-window), run.Ct);
        var stateBefore = Learn(before, cols.Amount is not null);
        var active = ModelLake.Query(c, $"SELECT DISTINCT k FROM {cols.Relation(events.ParquetGlobs)} WHERE ts >= {ModelLake.Ts(asOf.AddDays(-window))} AND ts < {ModelLake.Ts(asOf)}")
            .Column("k").Select(v => (string)v!).ToHashSet(StringComparer.Ordinal);
        var scoresBefore = before.Select(x => Score(stateBefore, x.Recency, x.Frequency, x.Monetary)).ToArray();
        var labels = before.Select(x => active.Contains(x.Key)).ToArray();
        var auc = before.Count > 0 ? Metrics.Auc(scoresBefore, labels) : double.NaN;
        var recencyAuc = before.Count > 0 ? Metrics.Auc(before.Select(x => -x.Recency).ToArray(), labels) : double.NaN;

        var importance = before.Count > 0 ? Importance(before, stateBefore, labels, auc, new Random(run.Request.Seed)) : [];
        run.Step(0.6, "learning quintiles as of " + asOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        var now = Compute(c, cols, events.ParquetGlobs, asOf, run.Ct);
        if (now.Count == 0) throw new ModelTrainingException("No profile has events before " + asOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ".");
        var state = Learn(now, cols.Amount is not null);
        var scores = now.Select(x => Score(state, x.Recency, x.Frequency, x.Monetary)).ToArray();
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"{now.Count} profiles, mean engagement {scores.Average():F1}, next-{window}-days AUC {auc:F4} (recency alone {recencyAuc:F4})"));
        var manifest = new ModelManifest { Recipe = Recipe.Engagement, Trainer = "RFM quintiles", Events = cols, Engagement = state, TrainingCutoff = asOf };
        run.Step(1, "done");
        return new TrainingOutcome
        {
            Recipe = Recipe.Engagement, Trainer = "RFM quintiles",
            Metrics = new Dictionary<string, double> { ["auc"] = auc, ["meanScore"] = scores.Average(), ["profiles"] = now.Count },
            Baseline = new Dictionary<string, double> { ["auc"] = recencyAuc },
            Grade = Grading.Engagement(auc), FeatureImportance = importance,
            TrainingDistribution = ScoreDistribution.Deciles(scores),
            Log = run.Log, TrainRows = now.Count, TestRows = before.Count,
            Artifact = ModelArtifact.Write(manifest),
        };
    }
}
