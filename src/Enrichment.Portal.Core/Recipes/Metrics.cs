namespace Enrichment.Portal.Core.Recipes;

/// <summary>Evaluation metrics and chart data computed from (score, label) pairs.</summary>
public static class Metrics
{
    /// <summary>Area under the ROC curve (Mann-Whitney, ties count one half).</summary>
    public static double Auc(IReadOnlyList<double> p, IReadOnlyList<bool> y)
    {
        var idx = Enumerable.Range(0, p.Count).OrderBy(i => p[i]).ToArray();
        double pos = y.Count(b => b), neg = y.Count - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        double rankSum = 0;
        for (var i = 0; i < idx.Length;)
        {
            var j = i;
            while (j + 1 < idx.Length && p[idx[j + 1]] == p[idx[i]]) j++;
            var rank = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++) if (y[idx[k]]) rankSum += rank;
            i = j + 1;
        }
        return (rankSum - pos * (pos + 1) / 2) / (pos * neg);
    }

    /// <summary>Average precision (area under the precision-recall curve, step-wise).</summary>
    public static double PrAuc(IReadOnlyList<double> p, IReadOnlyList<bool> y)
    {
        var idx = Enumerable.Range(0, p.Count).OrderByDescending(i => p[i]).ToArray();
        double pos = y.Count(b => b), tp = 0, ap = 0;
        if (pos == 0) return double.NaN;
        for (var k = 0; k < idx.Length; k++)
            if (y[idx[k]]) { tp++; ap += tp / (k + 1); }
        return ap / pos;
    }

    public static double LogLoss(IReadOnlyList<double> p, IReadOnlyList<bool> y)
    {
        double s = 0;
        for (var i = 0; i < p.Count; i++)
        {
            var q = Math.Clamp(p[i], 1e-15, 1 - 1e-15);
            s -= y[i] ? Math.Log(q) : Math.Log(1 - q);
        }
        return s / Math.Max(1, p.Count);
    }

    public static ConfusionCounts Confusion(IReadOnlyList<double> p, IReadOnlyList<bool> y, double threshold)
    {
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < p.Count; i++)
        {
            var pred = p[i] >= threshold;
            if (pred && y[i]) tp++; else if (pred) fp++; else if (y[i]) fn++; else tn++;
        }
        return new ConfusionCounts(threshold, tp, fp, tn, fn);
    }

    /// <summary>Deciles by score (1 = top): rows, mean predicted, mean actual, lift vs the overall mean, cumulative share of the actual total.</summary>
    public static IReadOnlyList<DecileRow> Deciles(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        var n = predicted.Count;
        if (n == 0) return [];
        var idx = Enumerable.Range(0, n).OrderByDescending(i => predicted[i]).ThenBy(i => i).ToArray();
        var mean = actual.Average();
        var total = actual.Sum();
        var rows = new List<DecileRow>();
        double cum = 0;
        for (var d = 0; d < 10; d++)
        {
            int from = d * n / 10, to = (d + 1) * n / 10;
            if (to <= from) continue;
            var part = idx[from..to];
            var ma = part.Average(i => actual[i]);
            cum += part.Sum(i => actual[i]);
            rows.Add(new DecileRow(d + 1, part.Length, part.Average(i => predicted[i]), ma, mean == 0 ? 0 : ma / mean, total == 0 ? 0 : cum / total));
        }
        return rows;
    }

    /// <summary>
    /// The ROC curve: one vertex per distinct score (tied scores move together, so the curve has no fake stairs), thinned to
    /// at most <paramref name="maxPoints"/> vertices spread evenly along the curve's length, always from (0,0) to (1,1).
    /// </summary>
    public static IReadOnlyList<CurvePoint> Roc(IReadOnlyList<double> p, IReadOnlyList<bool> y, int maxPoints = 201)
    {
        var idx = Enumerable.Range(0, p.Count).OrderByDescending(i => p[i]).ToArray();
        double pos = y.Count(b => b), neg = y.Count - pos, tp = 0, fp = 0;
        var all = new List<CurvePoint> { new(0, 0) };
        for (var k = 0; k < idx.Length; k++)
        {
            if (y[idx[k]]) tp++; else fp++;
            if (k == idx.Length - 1 || p[idx[k + 1]] != p[idx[k]]) all.Add(new CurvePoint(neg == 0 ? 0 : fp / neg, pos == 0 ? 0 : tp / pos));
        }
        if (all.Count <= maxPoints) return all;
        // Keep the vertices nearest to evenly spaced marks of the cumulative path length (both ends kept).
        var length = new double[all.Count];
        for (var i = 1; i < all.Count; i++)
            length[i] = length[i - 1] + Math.Sqrt(Math.Pow(all[i].X - all[i - 1].X, 2) + Math.Pow(all[i].Y - all[i - 1].Y, 2));
        var kept = new List<CurvePoint> { all[0] };
        var next = 1;
        for (var m = 1; m < maxPoints - 1; m++)
        {
            var mark = length[^1] * m / (maxPoints - 1);
            while (next < all.Count - 1 && length[next] < mark) next++;
            if (!ReferenceEquals(kept[^1], all[next])) kept.Add(all[next]);
        }
        kept.Add(all[^1]);
        return kept;
    }

    public static IReadOnlyList<CurvePoint> PrecisionRecall(IReadOnlyList<double> p, IReadOnlyList<bool> y, int maxPoints = 101)
    {
        var idx = Enumerable.Range(0, p.Count).OrderByDescending(i => p[i]).ToArray();
        double pos = y.Count(b => b), tp = 0;
        var pts = new List<CurvePoint>();
        var step = Math.Max(1, idx.Length / maxPoints);
        for (var k = 0; k < idx.Length; k++)
        {
            if (y[idx[k]]) tp++;
            if ((k + 1) % step == 0 || k == idx.Length - 1) pts.Add(new CurvePoint(pos == 0 ? 0 : tp / pos, tp / (k + 1)));
        }
        return pts;
    }

    public static IReadOnlyList<CalibrationBin> Calibration(IReadOnlyList<double> p, IReadOnlyList<bool> y, int bins = 10)
    {
        var res = new List<CalibrationBin>();
        for (var b = 0; b < bins; b++)
        {
            double lo = (double)b / bins, hi = (double)(b + 1) / bins;
            var members = Enumerable.Range(0, p.Count).Where(i => p[i] >= lo && (p[i] < hi || (b == bins - 1 && p[i] <= hi))).ToArray();
            if (members.Length == 0) continue;
            res.Add(new CalibrationBin(members.Average(i => p[i]), members.Average(i => y[i] ? 1.0 : 0.0), members.Length));
        }
        return res;
    }

    /// <summary>Classification metrics of API.md at threshold 0.5: auc, prAuc, logLoss, f1, accuracy, lift10.</summary>
    public static Dictionary<string, double> Classification(IReadOnlyList<double> p, IReadOnlyList<bool> y)
    {
        var c = Confusion(p, y, 0.5);
        double precision = c.TruePositives + c.FalsePositives == 0 ? 0 : (double)c.TruePositives / (c.TruePositives + c.FalsePositives);
        double recall = c.TruePositives + c.FalseNegatives == 0 ? 0 : (double)c.TruePositives / (c.TruePositives + c.FalseNegatives);
        var deciles = Deciles(p, y.Select(b => b ? 1.0 : 0.0).ToArray());
        return new Dictionary<string, double>
        {
            ["auc"] = Auc(p, y),
            ["prAuc"] = PrAuc(p, y),
            ["logLoss"] = LogLoss(p, y),
            ["f1"] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
            ["accuracy"] = (double)(c.TruePositives + c.TrueNegatives) / Math.Max(1, p.Count),
            ["lift10"] = deciles.Count > 0 ? deciles[0].Lift : 0,
        };
    }

    /// <summary>Regression metrics of API.md: rmse, mae, r2, gini (normalized Gini of the ranking by prediction).</summary>
    public static Dictionary<string, double> Regression(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        var n = Math.Max(1, actual.Count);
        double se = 0, ae = 0, mean = actual.Count == 0 ? 0 : actual.Average(), ss = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            var e = predicted[i] - actual[i];
            se += e * e; ae += Math.Abs(e); ss += (actual[i] - mean) * (actual[i] - mean);
        }
        return new Dictionary<string, double>
        {
            ["rmse"] = Math.Sqrt(se / n),
            ["mae"] = ae / n,
            ["r2"] = ss == 0 ? 0 : 1 - se / ss,
            ["gini"] = NormalizedGini(predicted, actual),
        };
    }

    public static double NormalizedGini(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        static double G(IReadOnlyList<double> order, IReadOnlyList<double> a)
        {
            var idx = Enumerable.Range(0, a.Count).OrderByDescending(i => order[i]).ThenBy(i => i).ToArray();
            double total = a.Sum(), cum = 0, g = 0;
            if (total == 0) return 0;
            for (var k = 0; k < idx.Length; k++) { cum += a[idx[k]]; g += cum / total - (k + 1.0) / idx.Length; }
            return g / idx.Length;
        }
        var perfect = G(actual, actual);
        return perfect == 0 ? 0 : G(predicted, actual) / perfect;
    }
}

/// <summary>
/// The grade of a run against its baseline. Classification: A when AUC &gt;= 0.75 and log loss beats the prior-only
/// baseline, B when AUC &gt;= 0.60, else C. Regression / CLV: A when MAE is at least 20% below the naive baseline's,
/// B when below it at all, else C. Affinity: A when hit rate is at least 1.2x the popularity baseline's, B when at least
/// equal, else C. Segmentation: A when silhouette &gt;= 0.5, B when &gt;= 0.25, else C. Engagement: A when the score's AUC for
/// activity in the next period is &gt;= 0.75, B when &gt;= 0.6, else C.
/// </summary>
public static class Grading
{
    public static string Classification(double auc, double logLoss, double baselineLogLoss) =>
        auc >= 0.75 && logLoss < baselineLogLoss ? "A" : auc >= 0.6 ? "B" : "C";

    public static string Regression(double mae, double baselineMae) =>
        mae <= 0.8 * baselineMae ? "A" : mae < baselineMae ? "B" : "C";

    public static string Affinity(double hitRate, double baselineHitRate) =>
        hitRate >= 1.2 * baselineHitRate ? "A" : hitRate >= baselineHitRate ? "B" : "C";

    public static string Segmentation(double silhouette) => silhouette >= 0.5 ? "A" : silhouette >= 0.25 ? "B" : "C";

    public static string Engagement(double auc) => double.IsNaN(auc) ? "C" : auc >= 0.75 ? "A" : auc >= 0.6 ? "B" : "C";
}
