using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

// What a training run takes and gives: the recipe, its label, the request, progress and the outcome.

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
    [JsonStringEnumMemberName("uplift")] Uplift,
    /// <summary>A model trained elsewhere and uploaded as ONNX (<see cref="OnnxState"/>).</summary>
    [JsonStringEnumMemberName("custom")] Custom,
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
