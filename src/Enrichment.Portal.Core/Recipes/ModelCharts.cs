using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

// The figures of a training run drawn on the model page: importance, curves, deciles, calibration, confusion, clusters, distribution, data counts.

/// <summary>Chart data for the model page; members not relevant to the recipe are empty.</summary>
public sealed record ModelCharts
{
    public IReadOnlyList<CurvePoint> Roc { get; init; } = [];
    public IReadOnlyList<CurvePoint> PrecisionRecall { get; init; } = [];
    /// <summary>Classification lift/gains by decile, or CLV predicted vs actual by decile of prediction.</summary>
    public IReadOnlyList<DecileRow> Deciles { get; init; } = [];
    public IReadOnlyList<CalibrationBin> Calibration { get; init; } = [];
    public ConfusionCounts? Confusion { get; init; }
    public IReadOnlyList<ClusterInfo> Clusters { get; init; } = [];
    /// <summary>Uplift models: observed uplift by decile of predicted uplift (held-out rows).</summary>
    public IReadOnlyList<UpliftDecile> Uplift { get; init; } = [];
    /// <summary>Uplift models: the Qini curve (x = share targeted, y = incremental conversions per row); random targeting is the line to the last point.</summary>
    public IReadOnlyList<CurvePoint> Qini { get; init; } = [];
    /// <summary>Binary models: held-out confusion counts at thresholds 0.01..0.99 (the threshold picker's table).</summary>
    public IReadOnlyList<ConfusionCounts> Thresholds { get; init; } = [];
    /// <summary>Why the grade is what it is (each check, in words).</summary>
    public IReadOnlyList<string> GradeReasons { get; init; } = [];
    /// <summary>What the baseline metrics are of ("best single column 'tenure'", "last-horizon spend repeated").</summary>
    public string? BaselineRule { get; init; }
    /// <summary>What the run's row counts count, and how the source's records became them.</summary>
    public DataCounts? Data { get; init; }
}

/// <summary>One feature's permutation importance (drop of the main metric when its values are shuffled).</summary>
public sealed record FeatureImportance(string Feature, double Importance);

/// <summary>A point of a curve (ROC: x = false positive rate, y = true positive rate; PR: x = recall, y = precision).</summary>
public sealed record CurvePoint(double X, double Y);

/// <summary>One decile of a lift/gains table (decile 1 = highest scores).</summary>
public sealed record DecileRow(int Decile, int Rows, double MeanPredicted, double MeanActual, double Lift, double CumulativeGain);

/// <summary>A calibration bin: mean predicted probability vs observed positive rate.</summary>
public sealed record CalibrationBin(double MeanPredicted, double ObservedRate, int Rows);

/// <summary>Confusion counts at a threshold.</summary>
public sealed record ConfusionCounts(double Threshold, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives);

/// <summary>A cluster of a segmentation model.</summary>
public sealed record ClusterInfo(int Segment, int Size, string Description, IReadOnlyDictionary<string, double> Centroid);

/// <summary>
/// What a run's train/test counts count (<see cref="Unit"/>: "profiles" when the source was reduced to one row per key,
/// "rows" without a key, "customers" for event recipes), how many records the source had, how many units were left, and
/// how many were dropped for an empty label.
/// </summary>
public sealed record DataCounts(string Unit, long SourceRecords, long Units, long DroppedUnlabeled, string? KeyField);

/// <summary>A binned score distribution (bin edges from the training deciles), for drift (see <see cref="ModelScorer.Psi"/>).</summary>
public sealed record ScoreDistribution(IReadOnlyList<double> Edges, IReadOnlyList<double> Fractions)
{
    /// <summary>Bins <paramref name="values"/> into the <paramref name="edges"/> (inner cut points; n edges give n+1 bins).</summary>
    public static ScoreDistribution From(IReadOnlyList<double> values, IReadOnlyList<double> edges)
    {
        var counts = new double[edges.Count + 1];
        foreach (var v in values)
        {
            var i = 0;
            while (i < edges.Count && v > edges[i]) i++;
            counts[i]++;
        }
        var n = Math.Max(1, values.Count);
        return new ScoreDistribution(edges, counts.Select(c => c / n).ToArray());
    }

    /// <summary>Decile edges of <paramref name="values"/> and their distribution.</summary>
    public static ScoreDistribution Deciles(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return new ScoreDistribution([], [1.0]);
        var sorted = values.OrderBy(v => v).ToArray();
        var edges = Enumerable.Range(1, 9).Select(i => sorted[Math.Min(sorted.Length - 1, i * sorted.Length / 10)]).Distinct().ToArray();
        return From(values, edges);
    }
}
