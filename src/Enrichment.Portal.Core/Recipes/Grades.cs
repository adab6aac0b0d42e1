using System.Globalization;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>A grade and the checks that gave it, in words for people (shown with the grade).</summary>
public sealed record GradeReport(string Grade, IReadOnlyList<string> Reasons);

/// <summary>
/// Grades that say why. Classification: A needs AUC ≥ 0.75, a log loss below the class prior's, an AUC at least 0.02 above
/// the best single column's, and at the operating threshold at least one predicted positive and an F1 above the single
/// column rule's; no predicted positive (or F1 0) is a C whatever the AUC. Segmentation: A needs silhouette ≥ 0.5 and
/// balanced clusters; one cluster with ≥ 90 % of the rows (or every cluster "close to average") is a C.
/// </summary>
public static class Grades
{
    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    /// <param name="metrics">auc, logLoss, f1, threshold (the model's held-out metrics).</param>
    /// <param name="baseline">auc, f1 of the best single-column rule and priorLogLoss (the class prior's log loss).</param>
    /// <param name="confusion">Held-out counts at the operating threshold.</param>
    /// <param name="baselineFeature">The column of the single-column rule, for the text.</param>
    /// <param name="baselineName">How the baseline reads (default: from <paramref name="baselineFeature"/>), e.g. the RFM rule.</param>
    public static GradeReport Classification(IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, double> baseline, ConfusionCounts confusion, string? baselineFeature, string? baselineName = null)
    {
        var auc = metrics["auc"]; var logLoss = metrics["logLoss"]; var f1 = metrics["f1"];
        var priorLogLoss = baseline.GetValueOrDefault("priorLogLoss", double.PositiveInfinity);
        var baseAuc = baseline.GetValueOrDefault("auc", 0.5); var baseF1 = baseline.GetValueOrDefault("f1", 0);
        var predicted = confusion.TruePositives + confusion.FalsePositives;
        var rows = predicted + confusion.TrueNegatives + confusion.FalseNegatives;
        var reasons = new List<string>();
        var isRfm = baselineName?.StartsWith("RFM rule", StringComparison.Ordinal) == true;
        var rule = isRfm ? "the " + baselineName : baselineFeature is null ? "the class prior" : $"the best single column '{baselineFeature}'";
        var t = F(confusion.Threshold);
        if (predicted == 0 || f1 <= 0)
        {
            reasons.Add(predicted == 0
                ? $"No held-out row is predicted positive at threshold {t} (0 of {N(rows)}): the model flags nobody, so it cannot be used as it is."
                : $"F1 is 0 at threshold {t}: none of the {N(predicted)} predicted positives is a real positive.");
            reasons.Add($"AUC {F(auc)} (ranking only); {rule}: {F(baseAuc)}.");
            return new GradeReport("C", reasons);
        }
        var strong = auc >= 0.75;
        var calibrated = logLoss < priorLogLoss;
        var beatsColumn = auc >= baseAuc + 0.02;
        var beatsRuleF1 = f1 > baseF1;
        reasons.Add($"AUC {F(auc)} {(strong ? "≥" : "<")} 0.75.");
        reasons.Add($"AUC {(beatsColumn ? "beats" : "does not clearly beat")} {rule} ({F(baseAuc)}, needs +0.02).");
        reasons.Add($"Log loss {F(logLoss)} {(calibrated ? "<" : "≥")} {F(priorLogLoss)} of always predicting the positive rate.");
        reasons.Add($"At threshold {t}: {N(predicted)} of {N(rows)} held-out rows predicted positive, precision {F(Ratio(confusion.TruePositives, predicted))}, recall {F(Ratio(confusion.TruePositives, confusion.TruePositives + confusion.FalseNegatives))}, F1 {F(f1)} ({(beatsRuleF1 ? "above" : "not above")} {(isRfm ? "the RFM rule's" : "the single-column rule's")} {F(baseF1)}).");
        var grade = strong && calibrated && beatsColumn && beatsRuleF1 ? "A" : auc >= 0.6 && auc > baseAuc ? "B" : "C";
        if (grade == "B" && strong) reasons.Add("Strong ranking, but not an A: " + string.Join(", ", new[] { (beatsColumn, isRfm ? "it must beat the RFM rule" : "it must beat the single column"), (calibrated, "its log loss must beat the prior"), (beatsRuleF1, "its F1 must beat the rule's") }.Where(x => !x.Item1).Select(x => x.Item2)) + ".");
        return new GradeReport(grade, reasons);
    }

    /// <summary>Segmentation: silhouette and how the rows spread over the clusters.</summary>
    public static GradeReport Segmentation(double silhouette, IReadOnlyList<ClusterInfo> clusters)
    {
        var total = Math.Max(1, clusters.Sum(c => c.Size));
        var largest = clusters.Count == 0 ? 1 : clusters.Max(c => c.Size) / (double)total;
        var smallest = clusters.Count == 0 ? 0 : clusters.Min(c => c.Size) / (double)total;
        var reasons = new List<string> { $"Silhouette {F(silhouette)} (A needs ≥ 0.5, B ≥ 0.25)." };
        var big = clusters.OrderByDescending(c => c.Size).FirstOrDefault();
        reasons.Add(string.Create(CultureInfo.InvariantCulture, $"Largest segment {largest:P1} of the rows{(big is null ? "" : $" ('{big.Description}')")}, smallest {smallest:P1}."));
        if (largest >= 0.9)
        {
            reasons.Add("One segment holds 90 % or more of the rows: the other segments are outliers, not a segmentation.");
            return new GradeReport("C", reasons);
        }
        if (clusters.Count > 0 && clusters.All(c => c.Description == "close to average"))
        {
            reasons.Add("No segment differs from the average by half a standard deviation in any feature.");
            return new GradeReport("C", reasons);
        }
        var balanced = largest <= 0.7 && smallest >= 0.02;
        if (!balanced) reasons.Add("Unbalanced (A needs the largest segment ≤ 70 % and the smallest ≥ 2 % of the rows).");
        var grade = silhouette >= 0.5 && balanced ? "A" : silhouette >= 0.25 ? "B" : "C";
        return new GradeReport(grade, reasons);
    }

    /// <summary>Regression against the better naive baseline (MAE). An A also needs the predictions to rank customers at least as
    /// well as the baseline (Gini, when given): a lower MAE from predicting everyone close to the median is not an A.</summary>
    public static GradeReport Regression(double mae, double baselineMae, string baselineName, double? gini = null, double? baselineGini = null)
    {
        var grade = Grading.Regression(mae, baselineMae);
        var gain = baselineMae <= 0 ? 0 : 1 - mae / baselineMae;
        var reasons = new List<string> { string.Create(CultureInfo.InvariantCulture, $"Holdout MAE {mae:0.00} vs {baselineMae:0.00} of {baselineName} ({gain:P1} {(gain >= 0 ? "better" : "worse")}; A needs 20 % better, B any improvement).") };
        if (gini is { } g && baselineGini is { } bg)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"Gini {g:0.000} vs {bg:0.000} of the baseline (how well the predictions rank customers by what they spent)."));
            if (grade == "A" && g < bg)
            {
                grade = "B";
                reasons.Add("Not an A: the predictions rank customers worse than the baseline does.");
            }
        }
        return new GradeReport(grade, reasons);
    }

    private static double Ratio(int a, int b) => b == 0 ? 0 : (double)a / b;
}

/// <summary>The operating threshold and the single-column baseline of a binary model.</summary>
public static class Thresholds
{
    /// <summary>Confusion counts at 0.01, 0.02, ..., 0.99 (the table the threshold picker reads).</summary>
    public static IReadOnlyList<ConfusionCounts> Table(IReadOnlyList<double> p, IReadOnlyList<bool> y)
    {
        // One sort, then a sweep: counts of positives/negatives at or above each threshold.
        var order = Enumerable.Range(0, p.Count).OrderByDescending(i => p[i]).ToArray();
        int pos = y.Count(v => v), neg = y.Count - pos;
        var list = new List<ConfusionCounts>(99);
        int tp = 0, fp = 0, k = 0;
        for (var step = 99; step >= 1; step--)
        {
            var t = step / 100.0;
            while (k < order.Length && p[order[k]] >= t) { if (y[order[k]]) tp++; else fp++; k++; }
            list.Add(new ConfusionCounts(t, tp, fp, neg - fp, pos - tp));
        }
        list.Reverse();
        return list;
    }

    public static double F1(ConfusionCounts c)
    {
        var d = 2 * c.TruePositives + c.FalsePositives + c.FalseNegatives;
        return d == 0 ? 0 : 2.0 * c.TruePositives / d;
    }

    /// <summary>The threshold (0.01 steps) with the best F1 on <paramref name="p"/>; ties go to the higher threshold.</summary>
    public static double F1Optimal(IReadOnlyList<double> p, IReadOnlyList<bool> y) =>
        Table(p, y).OrderByDescending(F1).ThenByDescending(c => c.Threshold).First().Threshold;

    /// <summary>Precision, recall, F1 and accuracy at a threshold, with the threshold itself.</summary>
    public static void AddAt(Dictionary<string, double> metrics, ConfusionCounts c)
    {
        var n = Math.Max(1, c.TruePositives + c.FalsePositives + c.TrueNegatives + c.FalseNegatives);
        metrics["threshold"] = c.Threshold;
        metrics["f1"] = F1(c);
        metrics["precision"] = c.TruePositives + c.FalsePositives == 0 ? 0 : (double)c.TruePositives / (c.TruePositives + c.FalsePositives);
        metrics["recall"] = c.TruePositives + c.FalseNegatives == 0 ? 0 : (double)c.TruePositives / (c.TruePositives + c.FalseNegatives);
        metrics["accuracy"] = (double)(c.TruePositives + c.TrueNegatives) / n;
    }

    /// <summary>
    /// The best single-column rule: for each feature, the training positive rate per value (categories) or per decile bin
    /// (numbers; missing is its own bin), smoothed toward the prior, scored on <paramref name="test"/>; the feature with the best
    /// held-out AUC wins. Its probabilities are the baseline's (AUC, log loss, lift, F1 at its own F1-optimal training threshold).
    /// </summary>
    internal static (string? Feature, double[] Scores, double TrainThreshold) BestSingleColumn(FeaturePlan plan, float[][] x, bool[] y, int[] train, int[] test)
    {
        var offsets = plan.Offsets();
        var prior = train.Count(r => y[r]) / (double)Math.Max(1, train.Length);
        string? bestName = null; double[]? best = null; var bestAuc = double.NegativeInfinity; var bestThreshold = 0.5;
        for (var s = 0; s < plan.Specs.Count; s++)
        {
            var spec = plan.Specs[s]; var o = offsets[s]; var w = spec.Width;
            Func<float[], int> key;
            if (spec.Kind is FeatureKind.Numeric or FeatureKind.Date)
            {
                var values = train.Where(r => !(w == 2 && x[r][o + 1] > 0)).Select(r => x[r][o]).OrderBy(v => v).ToArray();
                var edges = values.Length == 0 ? [] : Enumerable.Range(1, 9).Select(i => values[Math.Min(values.Length - 1, i * values.Length / 10)]).Distinct().ToArray();
                key = v => w == 2 && v[o + 1] > 0 ? -1 : Bin(edges, v[o]);
            }
            else key = v => { for (var j = 0; j < w; j++) if (v[o + j] > 0) return j; return -1; };
            var stats = new Dictionary<int, (double Pos, double N)>();
            foreach (var r in train)
            {
                var k = key(x[r]); var cur = stats.GetValueOrDefault(k);
                stats[k] = (cur.Pos + (y[r] ? 1 : 0), cur.N + 1);
            }
            double Rate(float[] v) => stats.TryGetValue(key(v), out var st) ? (st.Pos + 10 * prior) / (st.N + 10) : prior;
            var scores = test.Select(r => Rate(x[r])).ToArray();
            var auc = Metrics.Auc(scores, test.Select(r => y[r]).ToArray());
            if (auc > bestAuc)
            {
                bestAuc = auc; best = scores; bestName = spec.Name;
                bestThreshold = F1Optimal(train.Select(r => Rate(x[r])).ToArray(), train.Select(r => y[r]).ToArray());
            }
        }
        return (bestName, best ?? test.Select(_ => prior).ToArray(), bestThreshold);
    }

    /// <summary>
    /// The RFM rule, for models with event features: recency (ev_recency_days, more recent = higher), frequency (ev_frequency) and,
    /// when the events have amounts, monetary (ev_monetary) each become a quintile 1-5 against training cut points (no event: 0);
    /// their sum is the RFM cell, and the rule's probability is the training positive rate of the cell (smoothed toward the prior),
    /// so it works for propensity (recent buyers convert) and churn (recent buyers stay) alike. Null without event features.
    /// </summary>
    internal static (double[] Scores, double TrainThreshold)? RfmRule(FeaturePlan plan, float[][] x, bool[] y, int[] train, int[] test)
    {
        var offsets = plan.Offsets();
        int Find(string name) => plan.Specs.Select((sp, i) => (sp, i)).Where(t => t.sp.Name == name).Select(t => t.i).DefaultIfEmpty(-1).First();
        int r = Find("ev_recency_days"), f = Find("ev_frequency"), m = Find("ev_monetary");
        if (r < 0 || f < 0) return null;
        var axes = new List<(int Spec, bool LowerIsBetter)> { (r, true), (f, false) };
        if (m >= 0 && train.Any(i => x[i][offsets[m]] != 0)) axes.Add((m, false));
        bool NoEvents(float[] v) => plan.Specs[r].MissingSlot && v[offsets[r] + 1] > 0;
        var cuts = axes.Select(a => EngagementRecipe.Cuts(train.Where(i => !NoEvents(x[i])).Select(i => (double)x[i][offsets[a.Spec]]))).ToArray();
        int Cell(float[] v) => NoEvents(v) ? 0 : axes.Select((a, k) => EngagementRecipe.Quintile(v[offsets[a.Spec]], cuts[k], a.LowerIsBetter)).Sum();
        var prior = train.Count(i => y[i]) / (double)Math.Max(1, train.Length);
        var stats = new Dictionary<int, (double Pos, double N)>();
        foreach (var i in train)
        {
            var k = Cell(x[i]); var cur = stats.GetValueOrDefault(k);
            stats[k] = (cur.Pos + (y[i] ? 1 : 0), cur.N + 1);
        }
        double Rate(float[] v) => stats.TryGetValue(Cell(v), out var st) ? (st.Pos + 10 * prior) / (st.N + 10) : prior;
        return (test.Select(i => Rate(x[i])).ToArray(), F1Optimal(train.Select(i => Rate(x[i])).ToArray(), train.Select(i => y[i]).ToArray()));
    }

    private static int Bin(float[] edges, float v)
    {
        var i = 0;
        while (i < edges.Length && v >= edges[i]) i++;
        return i;
    }
}
