namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// Trains one model version from a <see cref="TrainingRequest"/>. Pure library: the caller (a Hangfire job) stores
/// the outcome as a version and its <see cref="TrainingOutcome.Artifact"/> as the model file.
/// Errors the user can fix (one-class label, unknown column, missing parameter) are <see cref="ModelTrainingException"/>.
/// </summary>
public sealed class ModelTrainer
{
    /// <summary>Runs the recipe of <paramref name="request"/> and returns metrics, charts and the artifact.</summary>
    public Task<TrainingOutcome> TrainAsync(TrainingRequest request, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var run = new TrainingRun(request, progress, ct);
        return Task.Run(() => request.Recipe switch
        {
            Recipe.Propensity or Recipe.Churn => BinaryRecipe.Train(run),
            Recipe.Clv => ClvRecipe.Train(run),
            Recipe.Affinity => AffinityRecipe.Train(run),
            Recipe.Engagement => EngagementRecipe.Train(run),
            Recipe.Segmentation => SegmentationRecipe.Train(run),
            Recipe.Uplift => UpliftRecipe.Train(run),
            _ => throw new ModelTrainingException("Unknown recipe " + request.Recipe),
        }, ct);
    }
}

/// <summary>The state shared by a run's steps: request, parameters, log and progress.</summary>
internal sealed class TrainingRun(TrainingRequest request, IProgress<TrainingProgress>? progress, CancellationToken ct)
{
    public TrainingRequest Request { get; } = request;
    public RecipeParameters P { get; } = new(request.Parameters);
    public List<string> Log { get; } = [];
    public CancellationToken Ct { get; } = ct;

    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public void Step(double fraction, string stage)
    {
        Ct.ThrowIfCancellationRequested();
        Log.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_clock.Elapsed.TotalSeconds,6:F1}s {fraction,4:P0} {stage}"));
        progress?.Report(new TrainingProgress(fraction, stage));
    }

    public EventSource RequireEvents() =>
        Request.Events ?? throw new ModelTrainingException($"The {Request.Recipe.ToString().ToLowerInvariant()} recipe needs an event dataset (parameters.eventDatasetId).");
}
