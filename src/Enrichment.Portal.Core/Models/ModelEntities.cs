using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Models;

/// <summary>
/// A model (ARCHITECTURE.md, Recipe, model, version): a recipe with its source, label, features and parameters.
/// Each training run that succeeds makes a <see cref="ModelVersion"/>; one version is active. Change it through <see cref="ModelService"/>.
/// JSON columns hold the API.md shapes as text (features, parameters).
/// </summary>
public sealed class Model : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    /// <summary>Unique per sandbox (case-insensitive); the key of <c>insights.&lt;name&gt;</c> on profiles.</summary>
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    /// <summary>API name of the recipe: propensity, churn, clv, affinity, engagement, segmentation.</summary>
    public string Recipe { get; set; } = "";
    /// <summary>The source dataset, or null when <see cref="SourceSnapshot"/> (the newest profile snapshot).</summary>
    public string? SourceDatasetId { get; set; }
    public bool SourceSnapshot { get; set; }
    public string? LabelField { get; set; }
    public string? LabelPositive { get; set; }
    /// <summary>JSON array of field paths, or null (every non-identity, non-label field).</summary>
    public string? FeaturesJson { get; set; }
    /// <summary>JSON array of field paths, or null.</summary>
    public string? ExcludeFeaturesJson { get; set; }
    /// <summary>JSON object of the recipe parameters (API.md Models).</summary>
    public string ParametersJson { get; set; } = "{}";
    /// <summary>Seed of training runs (same data and parameters give the same metrics).</summary>
    public int Seed { get; set; } = 42;
    public string? ActiveVersionId { get; set; }
    /// <summary>Cron expression of recurring scoring (the scoring issue); null: none.</summary>
    public string? ScheduleCron { get; set; }
    /// <summary>Retrain before each scheduled scoring.</summary>
    public bool ScheduleRetrain { get; set; }
    /// <summary>When the schedule fires next (UTC); advanced by the scoring scheduler when it starts a run. Null: no schedule.</summary>
    public DateTimeOffset? ScheduleNextRunAt { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>Status values of a <see cref="TrainingRun"/> (API.md).</summary>
public static class TrainingStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public static bool IsFinal(string status) => status is Succeeded or Failed;
}

/// <summary>One training of a model: a background job (kind <c>training</c>) with progress, log, metrics and charts.</summary>
public sealed class TrainingRun : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string ModelId { get; set; } = "";
    public string Status { get; set; } = TrainingStatus.Queued;
    public double Progress { get; set; }
    /// <summary>What is happening now (e.g. "cross-validating LightGbm").</summary>
    public string? Stage { get; set; }
    public int Seed { get; set; } = 42;
    /// <summary>JSON object name -> number (held-out metrics).</summary>
    public string? MetricsJson { get; set; }
    public string? FittedParametersJson { get; set; }
    public string? BaselineJson { get; set; }
    public string? Grade { get; set; }
    /// <summary>JSON array of { feature, importance }.</summary>
    public string? FeatureImportanceJson { get; set; }
    /// <summary>JSON of <see cref="Recipes.ModelCharts"/>.</summary>
    public string? ChartsJson { get; set; }
    /// <summary>JSON array of log lines.</summary>
    public string? LogJson { get; set; }
    public string? Trainer { get; set; }
    public int TrainRows { get; set; }
    public int TestRows { get; set; }
    public string? VersionId { get; set; }
    public string? Error { get; set; }
    public string? JobRunId { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>
/// A trained model in the registry: the artifact file (input schema inside), metrics, the parameters and seed it was
/// trained with, the trainer chosen, and exactly which data it saw (dataset, batch folders, row counts).
/// </summary>
public sealed class ModelVersion : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string ModelId { get; set; } = "";
    /// <summary>1, 2, 3 ... per model.</summary>
    public int Number { get; set; }
    public string RunId { get; set; } = "";
    /// <summary>Absolute path of the artifact (a zip) under <c>PortalOptions.ModelDirectory</c>.</summary>
    public string ArtifactPath { get; set; } = "";
    public long ArtifactBytes { get; set; }
    public string Recipe { get; set; } = "";
    public string? MetricsJson { get; set; }
    public string? BaselineJson { get; set; }
    public string? Grade { get; set; }
    public string? FittedParametersJson { get; set; }
    /// <summary>JSON of the model definition trained (label, features, excludeFeatures, parameters).</summary>
    public string? ParametersJson { get; set; }
    public int Seed { get; set; }
    public string? Trainer { get; set; }
    public string? SourceDatasetId { get; set; }
    public string? SourceDatasetName { get; set; }
    /// <summary>JSON array of the batch folder names read (the exact training data).</summary>
    public string? BatchFoldersJson { get; set; }
    public string? EventDatasetId { get; set; }
    public int TrainRows { get; set; }
    public int TestRows { get; set; }
    /// <summary>JSON of the training score distribution (<see cref="Recipes.ScoreDistribution"/>) for drift (PSI) later.</summary>
    public string? TrainingDistributionJson { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

internal sealed class ModelConfiguration : IEntityTypeConfiguration<Model>
{
    public void Configure(EntityTypeBuilder<Model> b)
    {
        b.ToTable("models");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.Recipe).HasMaxLength(20);
        b.Property(x => x.SourceDatasetId).HasMaxLength(32);
        b.Property(x => x.LabelField).HasMaxLength(500);
        b.Property(x => x.LabelPositive).HasMaxLength(500);
        b.Property(x => x.ActiveVersionId).HasMaxLength(32);
        b.Property(x => x.ScheduleCron).HasMaxLength(100);
        b.HasIndex(x => new { x.SandboxId, x.Name }).IsUnique();
    }
}

internal sealed class TrainingRunConfiguration : IEntityTypeConfiguration<TrainingRun>
{
    public void Configure(EntityTypeBuilder<TrainingRun> b)
    {
        b.ToTable("training_runs");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.ModelId).HasMaxLength(32);
        b.Property(x => x.Status).HasMaxLength(20);
        b.Property(x => x.Grade).HasMaxLength(2);
        b.Property(x => x.VersionId).HasMaxLength(32);
        b.Property(x => x.JobRunId).HasMaxLength(32);
        b.HasIndex(x => new { x.ModelId, x.CreatedAt });
        b.HasOne<Model>().WithMany().HasForeignKey(x => x.ModelId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ModelVersionConfiguration : IEntityTypeConfiguration<ModelVersion>
{
    public void Configure(EntityTypeBuilder<ModelVersion> b)
    {
        b.ToTable("model_versions");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.ModelId).HasMaxLength(32);
        b.Property(x => x.RunId).HasMaxLength(32);
        b.Property(x => x.Recipe).HasMaxLength(20);
        b.Property(x => x.Grade).HasMaxLength(2);
        b.HasIndex(x => new { x.ModelId, x.Number }).IsUnique();
        b.HasOne<Model>().WithMany().HasForeignKey(x => x.ModelId).OnDelete(DeleteBehavior.Cascade);
    }
}
