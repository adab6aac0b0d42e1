using System.Diagnostics;
using System.Globalization;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Scoring;

/// <summary>
/// Job kind <c>scoring</c> (target: a <see cref="ScoringRun"/> id). Optionally retrains first (scheduled runs with retrain:
/// the new version is activated only if its held-out primary metric is not worse than the active version's), then loads the
/// version's artifact, resolves the target's Parquet files (a dataset's committed batches or the newest profile snapshot, plus
/// the event dataset when the recipe needs events), scores them with one ML.NET batch transform (<see cref="ModelScorer.ScoreAsync"/>),
/// and writes the results through the normal ingestion path into the model's output dataset (<see cref="ScoringOutput"/>).
/// Only after the new batch is committed and has reached the profiles are the previous results removed, so a run that fails
/// (or a process that dies) half way leaves the previous results intact; running it again (or a new run) finishes the work.
/// Records rows, the score distribution, PSI against the training distribution and a drift warning above 0.2.
/// </summary>
public sealed class ScoringJob(CatalogDb db, LakeCatalog lake, ModelScorer scorer, ModelArtifactCache artifacts, ScoringOutput output,
    JobProgress jobProgress, IServiceScopeFactory scopes, IOptions<PortalOptions> options, IConfiguration config, TimeProvider clock,
    ILogger<ScoringJob> log) : IPortalJob
{
    /// <summary>Configuration key of fault injection for tests: <c>&lt;point&gt;:&lt;modelId&gt;</c>, point <c>after-score</c> or <c>after-lake</c>.</summary>
    public const string FailPointKey = "Scoring:FailPoint";

    private readonly List<string> _log = [];
    private readonly Stopwatch _watch = Stopwatch.StartNew();

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var run = await db.Set<ScoringRun>().FirstOrDefaultAsync(r => r.Id == targetId, ct)
                  ?? throw new JobFailedException($"Scoring run {targetId} does not exist.");
        if (run.Status == ScoringStatus.Succeeded) return;
        var model = await db.Set<Model>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == run.ModelId, ct)
                    ?? throw await FailAsync(run, "The model of this run was deleted.");

        run.Status = ScoringStatus.Running;
        run.StartedAt = clock.GetUtcNow();
        run.FinishedAt = null;
        run.Error = null;
        run.Progress = 0;
        run.RowsScored = 0;
        run.ProfilesUpdated = 0;
        run.BatchId = null;
        await StageAsync(run, 0, "starting", ct);

        var work = Path.Combine(options.Value.UploadDirectory, model.SandboxId, "_scoring", run.Id + "-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            if (run.Retrain) await RetrainAsync(run, model, ct);
            var versionId = run.VersionId ?? (await db.Set<Model>().AsNoTracking().Where(m => m.Id == model.Id).Select(m => m.ActiveVersionId).FirstOrDefaultAsync(ct))
                            ?? throw new ScoringFailure($"The model '{model.Name}' has no active version.");
            var version = await db.Set<ModelVersion>().AsNoTracking().FirstOrDefaultAsync(v => v.Id == versionId, ct)
                          ?? throw new ScoringFailure($"The version {versionId} of '{model.Name}' no longer exists.");
            run.VersionId = version.Id;
            var (artifact, manifest) = artifacts.Get(version.ArtifactPath);

            await StageAsync(run, 0.05, "resolving the target", ct);
            var target = await ScoringTargets.ResolveAsync(lake, version, manifest, run, ct);
            Log($"target: {target.Description} ({target.Files.Count} file(s)), keyed by {target.Namespace}");

            Directory.CreateDirectory(work);
            var scoresPath = Path.Combine(work, "scores.parquet");
            var training = ModelJson.Read<ScoreDistribution>(version.TrainingDistributionJson);
            await StageAsync(run, 0.1, $"scoring {target.Description} with version {version.Number}", ct);
            var scoringStarted = clock.GetUtcNow();
            var sw = Stopwatch.StartNew();
            ScoringOutcome outcome;
            try
            {
                outcome = await scorer.ScoreAsync(new ScoringRequest
                {
                    Artifact = artifact, InputGlobs = target.Files, EventGlobs = target.EventFiles, OutputPath = scoresPath,
                    DistributionEdges = training?.Edges is { Count: > 0 } e ? e : null, KeyField = target.KeyColumn,
                    OnePerProfile = target.OnePerProfile,
                }, ct);
            }
            catch (ModelTrainingException e) { throw new ScoringFailure(e.Message); }
            catch (DuckDB.NET.Data.DuckDBException e) { throw new ScoringFailure("The target data cannot be scored: " + e.Message); }
            Log(string.Create(CultureInfo.InvariantCulture, $"scored {outcome.RowsScored:N0} rows in {sw.Elapsed.TotalSeconds:F1} s ({outcome.RowsScored / Math.Max(0.001, sw.Elapsed.TotalSeconds):N0} rows/s)"));
            run.RowsScored = outcome.RowsScored;
            if (outcome.Distribution is { } dist)
            {
                run.DistributionJson = ModelJson.Write(dist);
                if (training is not null && training.Fractions.Count == dist.Fractions.Count)
                {
                    run.Psi = Math.Round(ModelScorer.Psi(training, dist), 6);
                    run.DriftWarning = run.Psi > ScoringService.DriftThreshold;
                    Log(string.Create(CultureInfo.InvariantCulture, $"PSI against training {run.Psi:0.####}{(run.DriftWarning ? " (drift warning: above 0.2)" : "")}"));
                }
            }
            if (outcome.RowsScored == 0) throw new ScoringFailure($"The target ({target.Description}) has no rows to score.");
            FailPoint("after-score", model.Id);

            await StageAsync(run, 0.45, "writing the scores batch", ct);
            var dataset = await output.EnsureDatasetAsync(model, target, ct);
            run.OutputDatasetId = dataset.Id;
            await AbandonEarlierAttemptsAsync(dataset.Id, run, ct);
            var batch = await output.CreateBatchAsync(dataset, model, version, run, scoresPath, scoringStarted, clock.GetUtcNow(), ct);
            run.BatchId = batch.Id;
            await StageAsync(run, 0.5, "ingesting the scores: validate", ct);

            var done = await output.IngestAsync(batch, async (b, stages) =>
            {
                var current = stages.Where(s => s.FinishedAt is null).OrderBy(s => BatchStages.Order(s.Name)).Select(s => s.Name).LastOrDefault()
                              ?? stages.OrderBy(s => BatchStages.Order(s.Name)).Select(s => s.Name).LastOrDefault() ?? "validate";
                var fraction = current switch
                {
                    BatchStages.Validate => 0.5 + 0.2 * Math.Min(1, b.RecordsRead / (double)Math.Max(1, run.RowsScored)),
                    BatchStages.Lake => 0.72,
                    BatchStages.Identity => 0.75,
                    _ => 0.85,
                };
                await StageAsync(run, fraction, $"ingesting the scores: {current} ({b.RecordsRead:N0} records read)", ct);
            }, ct);
            Log($"batch {done.Id}: {done.RecordsWritten:N0} records written, {done.RecordsFailed:N0} rejected, {done.RecordsWithoutIdentity:N0} without identity");
            run.ProfilesUpdated = done.RecordsWritten - done.RecordsWithoutIdentity;

            await StageAsync(run, 0.95, "replacing the previous results", ct);
            var replaced = await output.ReplacePreviousAsync(dataset, done.Id, ct);
            Log($"previous results removed: {replaced.BatchesRemoved} batch(es), {replaced.StaleFragments:N0} stale profile fragment(s), {replaced.ProfilesRemerged:N0} profile(s) re-merged");

            await db.Entry(run).ReloadAsync(ct);
            run.VersionId = version.Id;
            run.RowsScored = outcome.RowsScored;
            run.OutputDatasetId = dataset.Id;
            run.BatchId = done.Id;
            run.ProfilesUpdated = done.RecordsWritten - done.RecordsWithoutIdentity;
            run.Status = ScoringStatus.Succeeded;
            run.Progress = 1;
            run.Stage = "done";
            run.FinishedAt = clock.GetUtcNow();
            Log(string.Create(CultureInfo.InvariantCulture, $"done in {_watch.Elapsed.TotalSeconds:F1} s"));
            run.LogJson = ModelJson.Write(_log);
            await db.SaveChangesAsync(ct);
            await jobProgress.ReportAsync(1, $"{run.RowsScored:N0} rows scored, {run.ProfilesUpdated:N0} profiles updated", force: true, ct: ct);
        }
        catch (ScoringFailure e) { throw await FailAsync(run, e.Message); }
        catch (CatalogException e) { throw await FailAsync(run, e.Message); }
        catch (JobFailedException e) { throw await FailAsync(run, e.Message); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutdown or cancellation: the job row decides (re-queued after a restart, or cancelled); nothing was replaced yet.
            Log("interrupted");
            await SaveLogAsync(run);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Scoring run {RunId} failed", run.Id);
            throw await FailAsync(run, $"Scoring failed unexpectedly: {e.Message}");
        }
        finally
        {
            LakeFolders.TryDelete(work);
        }
    }

    /// <summary>Batches of the output dataset left queued or processing by an earlier attempt of this run (a crash) are marked abandoned;
    /// they are removed with the other previous results once this attempt succeeds.</summary>
    private async Task AbandonEarlierAttemptsAsync(string datasetId, ScoringRun run, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.Set<Batch>().Where(b => b.DatasetId == datasetId && (b.Status == BatchStatus.Queued || b.Status == BatchStatus.Processing))
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BatchStatus.Abandoned).SetProperty(b => b.CompletedAt, now)
                .SetProperty(b => b.FailureReason, "Left unfinished by an interrupted scoring run " + run.Id), ct);
    }

    // ---------------------------------------------------------------- retrain

    /// <summary>
    /// Trains a new version with the training job's own code (inline, in its own scope) and activates it only when its held-out
    /// primary metric is not worse than the active version's: auc (binary), rmse then mae (regression), silhouette (segmentation).
    /// A failed training does not stop the run: it scores with the active version.
    /// </summary>
    private async Task RetrainAsync(ScoringRun run, Model model, CancellationToken ct)
    {
        if (RecipeCatalog.IsUploaded(model.Recipe))
        {
            run.RetrainDecision = "Custom (ONNX) models are not retrained by the portal; scored with the active version.";
            Log(run.RetrainDecision);
            return;
        }
        await StageAsync(run, 0.01, "retraining", ct);
        var activeBefore = await db.Set<Model>().AsNoTracking().Where(m => m.Id == model.Id).Select(m => m.ActiveVersionId).FirstAsync(ct);
        var training = new Models.TrainingRun { ModelId = model.Id, Seed = model.Seed, CreatedBy = "schedule", CreatedAt = clock.GetUtcNow() };
        db.Add(training);
        await db.SaveChangesAsync(ct);
        run.TrainingRunId = training.Id;
        await db.SaveChangesAsync(ct);
        string? failure = null;
        await using (var scope = scopes.CreateSandboxScope(model.SandboxId))
        {
            try { await scope.ServiceProvider.GetRequiredKeyedService<IPortalJob>(ModelService.JobKind).RunAsync(training.Id, ct); }
            catch (JobFailedException e) { failure = e.Message; }
        }
        var trained = await db.Set<Models.TrainingRun>().AsNoTracking().FirstAsync(r => r.Id == training.Id, ct);
        if (failure is not null || trained.VersionId is null)
        {
            run.RetrainDecision = $"Retraining failed ({failure ?? trained.Error ?? "no version"}); scored with the active version.";
            Log(run.RetrainDecision);
            if (activeBefore is null) throw new ScoringFailure("Retraining failed and the model has no active version: " + (failure ?? trained.Error));
            run.VersionId = activeBefore;
            return;
        }
        var fresh = await db.Set<ModelVersion>().AsNoTracking().FirstAsync(v => v.Id == trained.VersionId, ct);
        if (activeBefore is null)
        {
            run.RetrainDecision = $"Version {fresh.Number} trained and activated (the model had no active version).";
            run.VersionId = fresh.Id;
            Log(run.RetrainDecision);
            return;
        }
        var active = await db.Set<ModelVersion>().AsNoTracking().FirstAsync(v => v.Id == activeBefore, ct);
        var (activate, reason) = Compare(fresh, active);
        if (activate)
        {
            await using var scope = scopes.CreateSandboxScope(model.SandboxId);
            await scope.ServiceProvider.GetRequiredService<ModelService>().ActivateAsync(model.Id, fresh.Id, "schedule", ct);
            run.VersionId = fresh.Id;
            run.RetrainDecision = $"Version {fresh.Number} activated: {reason}.";
        }
        else
        {
            run.VersionId = active.Id;
            run.RetrainDecision = $"Version {fresh.Number} kept inactive, scored with version {active.Number}: {reason}.";
        }
        Log(run.RetrainDecision);
    }

    /// <summary>Whether <paramref name="candidate"/> is not worse than <paramref name="active"/> on the recipe's primary held-out metric.</summary>
    public static (bool Activate, string Reason) Compare(ModelVersion candidate, ModelVersion active)
    {
        var c = ModelJson.Numbers(candidate.MetricsJson);
        var a = ModelJson.Numbers(active.MetricsJson);
        var candidates = candidate.Recipe switch
        {
            "propensity" or "churn" => new[] { ("auc", true) },
            "clv" => [("rmse", false), ("mae", false), ("logLikelihood", true)],
            "segmentation" => [("silhouette", true)],
            "uplift" => [("qini", true)],
            _ => [("auc", true), ("rmse", false), ("silhouette", true)],
        };
        foreach (var (metric, higherIsBetter) in candidates)
        {
            if (!c.TryGetValue(metric, out var cv) || !a.TryGetValue(metric, out var av) || double.IsNaN(cv) || double.IsNaN(av)) continue;
            var notWorse = higherIsBetter ? cv >= av - 1e-9 : cv <= av + 1e-9;
            var text = string.Create(CultureInfo.InvariantCulture, $"held-out {metric} {cv:0.####} vs {av:0.####} of version {active.Number} ({(higherIsBetter ? "higher" : "lower")} is better)");
            return (notWorse, (notWorse ? "not worse, " : "worse, ") + text);
        }
        return (false, "no comparable held-out metric");
    }

    // ---------------------------------------------------------------- bookkeeping

    private void FailPoint(string point, string modelId)
    {
        if (config[FailPointKey] is { } fp && fp == point + ":" + modelId)
            throw new ScoringFailure($"Fault injected at '{point}' ({FailPointKey}).");
    }

    private void Log(string line) =>
        _log.Add(string.Create(CultureInfo.InvariantCulture, $"{_watch.Elapsed.TotalSeconds,6:F1}s {line}"));

    private async Task StageAsync(ScoringRun run, double fraction, string stage, CancellationToken ct)
    {
        run.Progress = Math.Clamp(fraction, 0, 0.99);
        run.Stage = stage.Length > 400 ? stage[..400] : stage;
        run.LogJson = ModelJson.Write(_log);
        await db.SaveChangesAsync(ct);
        await jobProgress.ReportAsync(run.Progress, stage, ct: ct);
    }

    private async Task SaveLogAsync(ScoringRun run)
    {
        try
        {
            run.LogJson = ModelJson.Write(_log);
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException) { log.LogDebug(e, "Log of scoring run {RunId} not saved", run.Id); }
    }

    /// <summary>Marks the run failed with a message for people; returns the exception that fails the job with the same message.</summary>
    private async Task<JobFailedException> FailAsync(ScoringRun run, string message)
    {
        Log("failed: " + message);
        run.Status = ScoringStatus.Failed;
        run.Error = message;
        run.FinishedAt = clock.GetUtcNow();
        run.Stage = "failed";
        run.LogJson = ModelJson.Write(_log);
        await db.SaveChangesAsync(CancellationToken.None);
        return new JobFailedException(message);
    }
}
