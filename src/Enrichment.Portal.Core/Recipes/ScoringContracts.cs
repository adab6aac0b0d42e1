using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

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

/// <summary>What a scoring run writes: the Parquet file and how many rows.</summary>
public sealed record ScoringOutcome(string OutputPath, long RowsScored, ScoreDistribution? Distribution);
