using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Models;

/// <summary>The JSON of the model tables: camelCase, the API.md names.</summary>
public static class ModelJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Read<T>(string? json) where T : class =>
        string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize<T>(json, Options);

    public static IReadOnlyDictionary<string, double> Numbers(string? json) =>
        Read<Dictionary<string, double>>(json) ?? new Dictionary<string, double>();

    public static IReadOnlyList<string> Strings(string? json) => Read<List<string>>(json) ?? [];

    public static JsonObject Object(string? json) =>
        string.IsNullOrWhiteSpace(json) ? new JsonObject() : JsonNode.Parse(json) as JsonObject ?? new JsonObject();
}

/// <summary>Where a model reads its training rows: a dataset, or the newest profile snapshot.</summary>
public sealed record ModelSource(string? DatasetId, bool? Snapshot);

/// <summary>A model as the API and the UI show it.</summary>
public sealed record ModelView(
    string Id, string Name, string Recipe, string? Description, ModelSource Source, LabelSpec? Label,
    IReadOnlyList<string>? Features, IReadOnlyList<string>? ExcludeFeatures, JsonObject Parameters, int Seed,
    string? ActiveVersionId, string? SourceDatasetName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<ModelVersionView>? Versions = null, TrainingRunView? LatestRun = null)
{
    /// <summary>The recurring scoring: <c>{ cron, retrain, nextRunAt }</c> (cron null: none).</summary>
    public ModelScheduleView Schedule { get; init; } = new(null, false, null);

    public static ModelView From(Model m, string? datasetName = null, IReadOnlyList<ModelVersionView>? versions = null, TrainingRunView? latest = null) => new(
        m.Id, m.Name, m.Recipe, m.Description, new ModelSource(m.SourceDatasetId, m.SourceSnapshot ? true : null),
        m.LabelField is null ? null : new LabelSpec(m.LabelField, m.LabelPositive),
        m.FeaturesJson is null ? null : ModelJson.Strings(m.FeaturesJson),
        m.ExcludeFeaturesJson is null ? null : ModelJson.Strings(m.ExcludeFeaturesJson),
        ModelJson.Object(m.ParametersJson), m.Seed, m.ActiveVersionId, datasetName, m.CreatedAt, m.UpdatedAt, versions, latest)
    {
        Schedule = ModelScheduleView.Of(m),
    };
}

/// <summary>A training run per API.md (<c>GET /training-runs/{id}</c>), with charts and log added.</summary>
public sealed record TrainingRunView(
    string Id, string ModelId, string Status, double Progress, string? Stage,
    IReadOnlyDictionary<string, double>? Metrics, IReadOnlyDictionary<string, double>? FittedParameters,
    IReadOnlyDictionary<string, double>? Baseline, string? Grade, IReadOnlyList<FeatureImportance>? FeatureImportance,
    string? VersionId, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error,
    ModelCharts? Charts, IReadOnlyList<string> Log, int Seed, string? Trainer, int TrainRows, int TestRows, string? JobRunId)
{
    public static TrainingRunView From(TrainingRun r) => new(
        r.Id, r.ModelId, r.Status, r.Progress, r.Stage,
        r.MetricsJson is null ? null : ModelJson.Numbers(r.MetricsJson),
        r.FittedParametersJson is null ? null : ModelJson.Numbers(r.FittedParametersJson),
        r.BaselineJson is null ? null : ModelJson.Numbers(r.BaselineJson),
        r.Grade, r.FeatureImportanceJson is null ? null : ModelJson.Read<List<FeatureImportance>>(r.FeatureImportanceJson),
        r.VersionId, r.CreatedAt, r.StartedAt, r.FinishedAt, r.Error,
        ModelJson.Read<ModelCharts>(r.ChartsJson), ModelJson.Strings(r.LogJson), r.Seed, r.Trainer, r.TrainRows, r.TestRows, r.JobRunId);
}

/// <summary>A version in the registry.</summary>
public sealed record ModelVersionView(
    string Id, string ModelId, int Number, bool Active, string Recipe, string RunId, IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, double> Baseline, string? Grade, IReadOnlyDictionary<string, double> FittedParameters,
    JsonObject Parameters, int Seed, string? Trainer, TrainingData TrainingData, long ArtifactBytes, DateTimeOffset CreatedAt)
{
    public static ModelVersionView From(ModelVersion v, string? activeVersionId)
    {
        var parameters = ModelJson.Object(v.ParametersJson);
        var data = parameters?["data"] is JsonObject d ? d.Deserialize<DataCounts>(ModelJson.Options) : null;
        return new(
            v.Id, v.ModelId, v.Number, v.Id == activeVersionId, v.Recipe, v.RunId, ModelJson.Numbers(v.MetricsJson), ModelJson.Numbers(v.BaselineJson),
            v.Grade, ModelJson.Numbers(v.FittedParametersJson), parameters ?? new JsonObject(), v.Seed, v.Trainer,
            new TrainingData(v.SourceDatasetId, v.SourceDatasetName, ModelJson.Strings(v.BatchFoldersJson), v.EventDatasetId, v.TrainRows, v.TestRows,
                // Distinct units: a BG/NBD model is trained and evaluated on the same customers (a time split), a segmentation's
                // silhouette sample is part of its rows; older versions without counts add train and test.
                (int)(data?.Units ?? v.TrainRows + v.TestRows), data?.Unit ?? "rows", data?.SourceRecords, data?.DroppedUnlabeled ?? 0),
            v.ArtifactBytes, v.CreatedAt);
    }
}

/// <summary>The exact data a version was trained on. <see cref="Rows"/> counts <see cref="Unit"/>s (profiles, rows or customers)
/// used for training and testing; <see cref="SourceRecords"/> the source's records before one per profile was kept.</summary>
public sealed record TrainingData(string? DatasetId, string? DatasetName, IReadOnlyList<string> Batches, string? EventDatasetId, int TrainRows, int TestRows, int Rows,
    string Unit = "rows", long? SourceRecords = null, long DroppedUnlabeled = 0);

/// <summary>One metric of two versions side by side; <see cref="Better"/> is "a", "b" or null (equal or unknown direction).</summary>
public sealed record MetricComparison(string Metric, double? A, double? B, double? Delta, string? Better);

/// <summary>Two versions side by side.</summary>
public sealed record VersionComparison(ModelVersionView A, ModelVersionView B, IReadOnlyList<MetricComparison> Metrics, IReadOnlyList<string> ParameterDifferences);

/// <summary>A model's recurring scoring (<c>GET /models/{id}</c> <c>schedule</c>); null cron: none.</summary>
public sealed record ModelScheduleView(string? Cron, bool Retrain, DateTimeOffset? NextRunAt)
{
    public static ModelScheduleView Of(Model m) => new(m.ScheduleCron, m.ScheduleRetrain, m.ScheduleCron is null ? null : m.ScheduleNextRunAt);
}
