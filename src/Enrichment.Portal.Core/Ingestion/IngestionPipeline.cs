using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// The ingestion pipeline of one batch, in the order it runs. This is the one place that decides it:
/// <code>
///  upload ─► validate ─► lake ─┬─► [after-lake checks] ─► identity ─► profile ─► audiences ─► bookkeeping ─► success
///  (IngestionService) (IngestionJob: BatchIngestor,  │     IAfterLakeCheck     IIdentityAndProfileStage  IAudienceStage  IBatchBookkeeping
///                      or StreamingFlusher: LakeWriter) (test fault point)    (Profiles, stitching in   (issue #15;     (guardrail warnings)
///                                                                             Identity)                 none yet)
/// </code>
/// The upload, validate and lake stages write the batch's folder (<see cref="IngestionJob"/> for uploads, <see cref="StreamingFlusher"/>
/// for streaming micro-batches); both then call <see cref="CommitAsync"/>, which runs the stages after the lake slot by slot, marks
/// the batch successful and recounts its dataset. A stage failure fails the batch and un-commits its folder (readers stop seeing it).
/// <see cref="StageNames"/> are the recorded stages in this order: the latency panel shows them.
/// </summary>
public sealed class IngestionPipeline(
    CatalogDb db, DatasetCounts counts, TimeProvider clock, ILogger<IngestionPipeline> log,
    IEnumerable<IAfterLakeCheck> afterLake, IEnumerable<IIdentityAndProfileStage> identityAndProfile,
    IEnumerable<IAudienceStage> audiences, IEnumerable<IBatchBookkeeping> bookkeeping)
{
    /// <summary>
    /// The stages recorded on a batch (<see cref="BatchStage"/> rows), in pipeline order; the latency panel's columns.
    /// The audiences stage (issue #15) adds its name after <see cref="BatchStages.Profile"/> when it records one.
    /// </summary>
    public static readonly IReadOnlyList<string> StageNames =
        [BatchStages.Upload, BatchStages.Validate, BatchStages.Lake, BatchStages.Identity, BatchStages.Profile, BatchStages.Audiences];

    /// <summary>The stages after the lake, in order (each slot's stages in registration order; most slots have one).</summary>
    private IEnumerable<IBatchStage> AfterLake() =>
        [.. afterLake, .. identityAndProfile, .. audiences, .. bookkeeping];

    /// <summary>Runs the stages after the lake for a batch whose <paramref name="files"/> are committed, then marks it successful.</summary>
    public async Task CommitAsync(Batch batch, LakeDataset dataset, IReadOnlyList<string> files, CancellationToken ct)
    {
        try
        {
            foreach (var stage in AfterLake())
                await stage.RunAsync(batch, dataset, files, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "A stage after the lake failed for batch {BatchId}", batch.Id);
            var folder = files.Count > 0 ? Path.GetDirectoryName(files[0]) : null;
            if (folder is not null) LakeFolders.Uncommit(folder);
            var reason = "Stored in the lake, but a later stage failed: " + ex.Message;
            var failedAt = clock.GetUtcNow();
            await db.Set<Batch>().Where(b => b.Id == batch.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BatchStatus.Failed)
                .SetProperty(b => b.FailureReason, reason).SetProperty(b => b.CompletedAt, failedAt), CancellationToken.None);
            await counts.RecountAsync(batch.DatasetId, CancellationToken.None);
            throw new JobFailedException(reason, ex);
        }
        var now = clock.GetUtcNow();
        await db.Set<Batch>().Where(b => b.Id == batch.Id && b.Status != BatchStatus.Abandoned)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BatchStatus.Success).SetProperty(b => b.CompletedAt, now), ct);
        await counts.RecountAsync(batch.DatasetId, CancellationToken.None);
        foreach (var b in bookkeeping)
            await b.OnBatchSucceededAsync(batch, CancellationToken.None);
    }
}

/// <summary>Recomputes a dataset's record and batch counts from its successful batches (idempotent). Works in the current sandbox.</summary>
public sealed class DatasetCounts(CatalogDb db)
{
    public async Task RecountAsync(string datasetId, CancellationToken ct)
    {
        var ok = db.Set<Batch>().Where(b => b.DatasetId == datasetId && b.Status == BatchStatus.Success);
        var count = await ok.CountAsync(ct);
        var records = count == 0 ? 0 : await ok.SumAsync(b => b.RecordsWritten, ct);
        var now = DateTimeOffset.UtcNow;
        await db.Set<Datasets.Dataset>().Where(d => d.Id == datasetId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.RecordCount, records).SetProperty(d => d.BatchCount, count).SetProperty(d => d.UpdatedAt, now), ct);
    }
}
