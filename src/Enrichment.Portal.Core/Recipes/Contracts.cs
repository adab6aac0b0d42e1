using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>The kind of model (API.md Models, <c>recipe</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Recipe>))]
public enum Recipe
{
    [JsonStringEnumMemberName("propensity")] Propensity,
    [JsonStringEnumMemberName("churn")] Churn,
    [JsonStringEnumMemberName("clv")] Clv,
    [JsonStringEnumMemberName("affinity")] Affinity,
    [JsonStringEnumMemberName("engagement")] Engagement,
    [JsonStringEnumMemberName("segmentation")] Segmentation,
}

/// <summary>A classification label from a column: rows whose <paramref name="Field"/> equals <paramref name="Positive"/>
/// (case-insensitive, or true/1 for booleans and numbers when <paramref name="Positive"/> is null) are positive.</summary>
public sealed record LabelSpec(string Field, string? Positive);

/// <summary>An event dataset resolved by the caller: the Parquet glob(s) of its files and its schema fields.</summary>
public sealed record EventSource(IReadOnlyList<string> ParquetGlobs, IReadOnlyList<SchemaField>? Fields = null);

/// <summary>Everything one training run needs. Parameters follow API.md (Models) and are read by <see cref="RecipeParameters"/>.</summary>
public sealed record TrainingRequest
{
    public required Recipe Recipe { get; init; }
    /// <summary>Parquet glob(s) of the profile-like table (snapshot or dataset). Optional for clv/affinity/engagement, which can run on events alone.</summary>
    public IReadOnlyList<string> SourceGlobs { get; init; } = [];
    /// <summary>Schema fields of the source; null: inferred from the Parquet column types (no identity information then).</summary>
    public IReadOnlyList<SchemaField>? SourceFields { get; init; }
    /// <summary>The column outputs are keyed by; default: the source's primary identity, else the row number.</summary>
    public string? KeyField { get; init; }
    /// <summary>The source is a profile-class dataset, where every batch may carry the same profiles again (a re-upload,
    /// a correction): training keeps one row per profile, the newest record of each key (the last batch, then the last row).</summary>
    public bool OnePerProfile { get; init; }
    public LabelSpec? Label { get; init; }
    /// <summary>Features to use; null or empty: every non-identity, non-label field.</summary>
    public IReadOnlyList<string>? Features { get; init; }
    public IReadOnlyList<string>? ExcludeFeatures { get; init; }
    /// <summary>Recipe parameters as in API.md (cutoff, windowDays, eventType, method, customerField, ...).</summary>
    public JsonObject? Parameters { get; init; }
    /// <summary>The event dataset named by <c>parameters.eventDatasetId</c>, resolved by the caller.</summary>
    public EventSource? Events { get; init; }
    public int Seed { get; init; } = 42;
}

/// <summary>Progress of a run: a fraction in [0,1] and what is happening.</summary>
public sealed record TrainingProgress(double Fraction, string Stage);

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
    /// <summary>Binary models: held-out confusion counts at thresholds 0.01..0.99 (the threshold picker's table).</summary>
    public IReadOnlyList<ConfusionCounts> Thresholds { get; init; } = [];
    /// <summary>Why the grade is what it is (each check, in words).</summary>
    public IReadOnlyList<string> GradeReasons { get; init; } = [];
    /// <summary>What the baseline metrics are of ("best single column 'tenure'", "last-horizon spend repeated").</summary>
    public string? BaselineRule { get; init; }
    /// <summary>What the run's row counts count, and how the source's records became them.</summary>
    public DataCounts? Data { get; init; }
}

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

/// <summary>The result of a successful training run. <see cref="Artifact"/> is everything scoring needs.</summary>
public sealed record TrainingOutcome
{
    public required Recipe Recipe { get; init; }
    /// <summary>Held-out metrics (API.md names: auc, prAuc, logLoss, f1, accuracy, lift10 | rmse, mae, r2, gini | silhouette, k | logLikelihood ...).</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    public IReadOnlyDictionary<string, double> FittedParameters { get; init; } = new Dictionary<string, double>();
    /// <summary>The same metrics for the naive baseline of the recipe.</summary>
    public IReadOnlyDictionary<string, double> Baseline { get; init; } = new Dictionary<string, double>();
    /// <summary>A, B or C; see <see cref="Grading"/> for the rule.</summary>
    public required string Grade { get; init; }
    public IReadOnlyList<FeatureImportance> FeatureImportance { get; init; } = [];
    public required string Trainer { get; init; }
    public ModelCharts Charts { get; init; } = new();
    public ScoreDistribution? TrainingDistribution { get; init; }
    public IReadOnlyList<string> Log { get; init; } = [];
    public int TrainRows { get; init; }
    public int TestRows { get; init; }
    /// <summary>The model file (a zip: manifest.json with the input schema and recipe state, plus model.zip for ML.NET models).</summary>
    public required byte[] Artifact { get; init; }
}

/// <summary>A training that cannot run on the given data or parameters; the message says why, for the user.</summary>
public sealed class ModelTrainingException(string message) : Exception(message);

/// <summary>What a scoring run writes: the Parquet file and how many rows.</summary>
public sealed record ScoringOutcome(string OutputPath, long RowsScored, ScoreDistribution? Distribution);

/// <summary>One scoring run's input. Event-based recipes read <see cref="EventGlobs"/>; profile-feature recipes read <see cref="InputGlobs"/>.</summary>
public sealed record ScoringRequest
{
    public required byte[] Artifact { get; init; }
    public IReadOnlyList<string> InputGlobs { get; init; } = [];
    public IReadOnlyList<string> EventGlobs { get; init; } = [];
    public required string OutputPath { get; init; }
    /// <summary>The date features and event aggregates are computed as of; default: the training reference date for profile features, and the day after the newest event for event recipes.</summary>
    public DateTime? AsOf { get; init; }
    /// <summary>Bin edges of the training distribution (<see cref="TrainingOutcome.TrainingDistribution"/>), so the run's distribution is comparable by <see cref="ModelScorer.Psi"/>; null: deciles of the scores.</summary>
    public IReadOnlyList<double>? DistributionEdges { get; init; }
    /// <summary>The input column the results are keyed by; default: the model's key field (the training source's primary identity).</summary>
    public string? KeyField { get; init; }
    /// <summary>The input is a profile-class dataset: score only the newest record of each key (as training does).</summary>
    public bool OnePerProfile { get; init; }
}
