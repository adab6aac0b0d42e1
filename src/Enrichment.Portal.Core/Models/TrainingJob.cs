using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Recipes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Models;

/// <summary>
/// Job kind <c>training</c> (target: a <see cref="TrainingRun"/> id). Resolves the source in the lake, runs
/// <see cref="ModelTrainer"/> with live progress on the run row, stores the artifact atomically under
/// <c>&lt;models&gt;/&lt;sandbox&gt;/&lt;model&gt;/&lt;version&gt;.zip</c> and records the version; the model's first version becomes active.
/// Idempotent: a run that already made its version is left alone; a crashed run trains again (same seed, same result).
/// A training the data cannot support (<see cref="ModelTrainingException"/>) fails the run with the trainer's message.
/// </summary>
public sealed class TrainingJob(CatalogDb db, ModelService models, JobProgress jobProgress, IDbContextFactory<CatalogDb> factory,
    IOptions<PortalOptions> options, TimeProvider clock) : IPortalJob
{
    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var run = await db.Set<TrainingRun>().FirstOrDefaultAsync(r => r.Id == targetId, ct)
                  ?? throw new JobFailedException($"Training run {targetId} does not exist.");
        if (run.VersionId is not null && run.Status == TrainingStatus.Succeeded) return;
        var model = await db.Set<Model>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == run.ModelId, ct)
                    ?? throw await FailAsync(run, "The model of this run was deleted.");

        run.Status = TrainingStatus.Running;
        run.StartedAt = clock.GetUtcNow();
        run.FinishedAt = null;
        run.Error = null;
        run.Progress = 0;
        run.Stage = "resolving the source";
        await db.SaveChangesAsync(ct);

        ResolvedSource source;
        try { source = await models.ResolveAsync(model, ct); }
        catch (CatalogException e) { throw await FailAsync(run, e.Message); }

        var request = new TrainingRequest
        {
            Recipe = RecipeCatalog.TryParse(model.Recipe, out var recipe) ? recipe : throw await FailAsync(run, $"Unknown recipe '{model.Recipe}'."),
            SourceGlobs = source.Files,
            SourceFields = source.Dataset?.Schema.Fields,
            OnePerProfile = source.Dataset?.Schema.Class == Schemas.SchemaClass.Profile,
            Label = model.LabelField is null ? null : new LabelSpec(model.LabelField, model.LabelPositive),
            Features = model.FeaturesJson is null ? null : ModelJson.Strings(model.FeaturesJson),
            ExcludeFeatures = model.ExcludeFeaturesJson is null ? null : ModelJson.Strings(model.ExcludeFeaturesJson),
            Parameters = ModelJson.Object(model.ParametersJson),
            Events = source.Events,
            Seed = run.Seed,
        };

        TrainingOutcome outcome;
        var progress = new RunProgress(factory, run.Id, jobProgress);
        try { outcome = await new ModelTrainer().TrainAsync(request, progress, ct); }
        catch (ModelTrainingException e) { throw await FailAsync(run, e.Message); }
        catch (OperationCanceledException) { throw; }
        catch (Exception e) { throw await FailAsync(run, $"Training failed unexpectedly: {e.Message}"); }

        // The artifact first (temp file + rename), then the catalog rows in one save.
        var versionId = Ids.New();
        var folder = Path.Combine(options.Value.ModelDirectory, model.SandboxId, model.Id);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, versionId + ".zip");
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(tmp, outcome.Artifact, ct);
        File.Move(tmp, path, overwrite: true);

        var batches = source.Files.Select(f => Path.GetFileName(Path.GetDirectoryName(f)) ?? "").Distinct().ToList();
        var version = new ModelVersion
        {
            Id = versionId, ModelId = model.Id, RunId = run.Id, ArtifactPath = path, ArtifactBytes = outcome.Artifact.LongLength,
            Recipe = model.Recipe, MetricsJson = ModelJson.Write(outcome.Metrics), BaselineJson = ModelJson.Write(outcome.Baseline), Grade = outcome.Grade,
            FittedParametersJson = ModelJson.Write(outcome.FittedParameters),
            ParametersJson = ModelJson.Write(new
            {
                label = request.Label, features = request.Features, excludeFeatures = request.ExcludeFeatures,
                parameters = request.Parameters, source = new { datasetId = model.SourceDatasetId, snapshot = model.SourceSnapshot },
                data = outcome.Charts.Data,
            }),
            Seed = run.Seed, Trainer = outcome.Trainer, SourceDatasetId = source.Dataset?.Id, SourceDatasetName = source.Dataset?.Name,
            BatchFoldersJson = ModelJson.Write(batches), EventDatasetId = source.EventDataset?.Id, TrainRows = outcome.TrainRows, TestRows = outcome.TestRows,
            TrainingDistributionJson = outcome.TrainingDistribution is null ? null : ModelJson.Write(outcome.TrainingDistribution),
            CreatedAt = clock.GetUtcNow(),
        };
        db.Add(version);
        await db.Entry(run).ReloadAsync(ct);
        run.Status = TrainingStatus.Succeeded;
        run.Progress = 1;
        run.Stage = "done";
        run.MetricsJson = version.MetricsJson;
        run.BaselineJson = version.BaselineJson;
        run.FittedParametersJson = version.FittedParametersJson;
        run.Grade = outcome.Grade;
        run.FeatureImportanceJson = ModelJson.Write(outcome.FeatureImportance);
        run.ChartsJson = ModelJson.Write(outcome.Charts);
        run.LogJson = ModelJson.Write(outcome.Log);
        run.Trainer = outcome.Trainer;
        run.TrainRows = outcome.TrainRows;
        run.TestRows = outcome.TestRows;
        run.VersionId = versionId;
        run.FinishedAt = clock.GetUtcNow();
        var tracked = await db.Set<Model>().FirstAsync(m => m.Id == model.Id, ct);
        tracked.ActiveVersionId ??= versionId;
        tracked.UpdatedAt = clock.GetUtcNow();
        var number = await ModelVersionNumbers.SaveWithNextNumberAsync(db, version, ct);
        await jobProgress.ReportAsync(1, $"version {number}: {Headline(outcome)}", force: true, ct: ct);
    }

    private static string Headline(TrainingOutcome o) =>
        string.Join(", ", o.Metrics.Take(3).Select(kv => $"{kv.Key} {kv.Value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}"));

    /// <summary>Marks the run failed with a message for people; returns the exception that fails the job with the same message.</summary>
    private async Task<JobFailedException> FailAsync(TrainingRun run, string message)
    {
        run.Status = TrainingStatus.Failed;
        run.Error = message;
        run.FinishedAt = clock.GetUtcNow();
        run.Stage = "failed";
        await db.SaveChangesAsync(CancellationToken.None);
        return new JobFailedException(message);
    }

    /// <summary>Writes the trainer's progress to the run row (at most every 300 ms) and to the job row, and keeps the log so far.</summary>
    private sealed class RunProgress(IDbContextFactory<CatalogDb> factory, string runId, JobProgress job) : IProgress<TrainingProgress>
    {
        private readonly Lock _gate = new();
        private readonly List<string> _log = [];
        private DateTime _last = DateTime.MinValue;
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private readonly IProgress<(double Fraction, string? Text)> _job = job.AsProgress();

        public void Report(TrainingProgress value)
        {
            lock (_gate)
            {
                _log.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_clock.Elapsed.TotalSeconds,6:F1}s {value.Fraction,4:P0} {value.Stage}"));
                var now = DateTime.UtcNow;
                if (now - _last < TimeSpan.FromMilliseconds(300) && value.Fraction < 1) return;
                _last = now;
                var fraction = Math.Clamp(value.Fraction, 0, 0.99);
                var log = ModelJson.Write(_log);
                try
                {
                    using var db = factory.CreateDbContext();
                    db.Set<TrainingRun>().IgnoreQueryFilters().Where(r => r.Id == runId && r.Status == TrainingStatus.Running)
                        .ExecuteUpdate(s => s.SetProperty(r => r.Progress, fraction).SetProperty(r => r.Stage, value.Stage).SetProperty(r => r.LogJson, log));
                }
                catch (Exception) { /* progress is best effort; the final save is authoritative */ }
            }
            _job.Report((value.Fraction, value.Stage));
        }
    }
}
