using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Scoring;

/// <summary>Status values of a <see cref="ScoringRun"/> (API.md, same words as training runs).</summary>
public static class ScoringStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public static bool IsFinal(string status) => status is Succeeded or Failed;
}

/// <summary>What started a scoring run.</summary>
public static class ScoringTrigger
{
    public const string Manual = "manual";
    public const string Schedule = "schedule";
}

/// <summary>What a scoring run scores: a dataset (<see cref="DatasetId"/>) or the newest profile snapshot (<see cref="Snapshot"/>).</summary>
public sealed record ScoringTarget(string? DatasetId, bool Snapshot)
{
    public static ScoringTarget Dataset(string datasetId) => new(datasetId, false);
    public static readonly ScoringTarget NewestSnapshot = new(null, true);
}

/// <summary>
/// One application of a model's active version to a target (a background job of kind <c>scoring</c>): the scores are
/// written through the normal ingestion path into the model's output system dataset (<c>Scores: &lt;model&gt;</c>), so they
/// reach the profile as <c>insights.&lt;model name&gt;</c>. Holds progress, the score distribution and drift against training.
/// </summary>
public sealed class ScoringRun : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string ModelId { get; set; } = "";
    /// <summary>The version applied (the active one when the run started, or the one a scheduled retrain activated).</summary>
    public string? VersionId { get; set; }
    /// <summary>Target dataset; null with <see cref="TargetSnapshot"/> (the newest profile snapshot).</summary>
    public string? TargetDatasetId { get; set; }
    public bool TargetSnapshot { get; set; }
    public string Status { get; set; } = ScoringStatus.Queued;
    public double Progress { get; set; }
    /// <summary>What is happening now (e.g. "scoring", "ingesting: profile stage").</summary>
    public string? Stage { get; set; }
    public long RowsScored { get; set; }
    public string? OutputDatasetId { get; set; }
    /// <summary>The batch of the output dataset that carries this run's scores.</summary>
    public string? BatchId { get; set; }
    public long ProfilesUpdated { get; set; }
    /// <summary>JSON of the run's <see cref="ScoreDistribution"/> (same bins as the version's training distribution when it has one).</summary>
    public string? DistributionJson { get; set; }
    /// <summary>Population stability index against the training distribution; null when the version has none.</summary>
    public double? Psi { get; set; }
    /// <summary>True when <see cref="Psi"/> is above <see cref="ScoringService.DriftThreshold"/>.</summary>
    public bool DriftWarning { get; set; }
    /// <summary><see cref="ScoringTrigger.Manual"/> or <see cref="ScoringTrigger.Schedule"/>.</summary>
    public string Trigger { get; set; } = ScoringTrigger.Manual;
    /// <summary>Retrain first (scheduled runs with <c>retrain</c>); the new version is activated only if it is not worse.</summary>
    public bool Retrain { get; set; }
    public string? TrainingRunId { get; set; }
    /// <summary>Why the retrained version was (not) activated, for people.</summary>
    public string? RetrainDecision { get; set; }
    /// <summary>JSON array of log lines.</summary>
    public string? LogJson { get; set; }
    public string? JobRunId { get; set; }
    public string? Error { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

internal sealed class ScoringRunConfiguration : IEntityTypeConfiguration<ScoringRun>
{
    public void Configure(EntityTypeBuilder<ScoringRun> b)
    {
        b.ToTable("scoring_runs");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.ModelId).HasMaxLength(32);
        b.Property(x => x.VersionId).HasMaxLength(32);
        b.Property(x => x.TargetDatasetId).HasMaxLength(32);
        b.Property(x => x.Status).HasMaxLength(20);
        b.Property(x => x.Stage).HasMaxLength(400);
        b.Property(x => x.OutputDatasetId).HasMaxLength(32);
        b.Property(x => x.BatchId).HasMaxLength(32);
        b.Property(x => x.Trigger).HasMaxLength(20);
        b.Property(x => x.TrainingRunId).HasMaxLength(32);
        b.Property(x => x.RetrainDecision).HasMaxLength(1000);
        b.Property(x => x.JobRunId).HasMaxLength(32);
        b.HasIndex(x => new { x.ModelId, x.CreatedAt });
        b.HasOne<Model>().WithMany().HasForeignKey(x => x.ModelId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>The target of a run as the API shows it: <c>{ datasetId }</c> or <c>{ snapshot: true }</c>.</summary>
public sealed record ScoringTargetView(string? DatasetId, bool? Snapshot);

/// <summary>A scoring run per API.md (<c>GET /scoring-runs/{id}</c>), with stage, trigger, drift and the retrain decision added.</summary>
public sealed record ScoringRunView(
    string Id, string ModelId, string? VersionId, ScoringTargetView Target, string Status, double Progress, string? Stage,
    long RowsScored, string? OutputDatasetId, string? BatchId, long ProfilesUpdated, ScoreDistribution? Distribution, double? Psi,
    bool DriftWarning, string Trigger, bool Retrain, string? TrainingRunId, string? RetrainDecision, IReadOnlyList<string> Log,
    string? JobRunId, string? Error, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt)
{
    public static ScoringRunView From(ScoringRun r) => new(
        r.Id, r.ModelId, r.VersionId, new ScoringTargetView(r.TargetDatasetId, r.TargetSnapshot ? true : null), r.Status, r.Progress, r.Stage,
        r.RowsScored, r.OutputDatasetId, r.BatchId, r.ProfilesUpdated, ModelJson.Read<ScoreDistribution>(r.DistributionJson), r.Psi,
        r.DriftWarning, r.Trigger, r.Retrain, r.TrainingRunId, r.RetrainDecision, ModelJson.Strings(r.LogJson),
        r.JobRunId, r.Error, r.CreatedBy, r.CreatedAt, r.StartedAt, r.FinishedAt);
}

/// <summary>
/// One profile scored now (<c>POST /models/{id}/predict</c>): the <see cref="ScoreResult"/> fields of the recipe,
/// the version used and when.
/// </summary>
public sealed record PredictionView(
    string ModelId, string ModelName, string ModelVersion, string ProfileId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Score,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Top,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Segment,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SegmentDescription,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Engagement,
    DateTimeOffset ScoredAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, object?>? Insight = null)
{
    /// <summary>Binary models: the top contributing features (feature, direction, contribution, value).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<Recipes.ScoreReason>? Reasons { get; init; }
    /// <summary>Uplift models: P(outcome | treated) − P(outcome | control).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Uplift { get; init; }
}
