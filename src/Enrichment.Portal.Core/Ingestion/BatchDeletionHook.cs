using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>Deleting a dataset stops its running batches and removes its lake folder, raw uploads and batch rows.</summary>
public sealed class BatchDeletionHook(CatalogDb db, LakeCatalog lake, JobScheduler jobs, IOptions<PortalOptions> portal) : IDatasetDeletionHook
{
    public async Task OnDatasetDeletingAsync(Dataset dataset, CancellationToken ct)
    {
        var batches = await db.Set<Batch>().AsNoTracking().Where(b => b.DatasetId == dataset.Id).Select(b => new { b.Id, b.Status, b.JobRunId }).ToListAsync(ct);
        foreach (var b in batches.Where(b => !BatchStatus.IsFinal(b.Status) && b.JobRunId is not null))
            await jobs.MarkCancelledAsync(b.JobRunId!, "dataset deletion", ct);
        await db.Set<Batch>().Where(b => b.DatasetId == dataset.Id && (b.Status == BatchStatus.Queued || b.Status == BatchStatus.Processing))
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BatchStatus.Abandoned), ct);
        LakeFolders.TryDelete(lake.DatasetFolder(dataset.SandboxId, dataset.Id));
        foreach (var b in batches)
            LakeFolders.TryDelete(Path.Combine(portal.Value.UploadDirectory, dataset.SandboxId, b.Id));
        var ids = batches.Select(b => b.Id).ToList();
        await db.Set<BatchStage>().Where(s => ids.Contains(s.BatchId)).ExecuteDeleteAsync(ct);
        await db.Set<Batch>().Where(b => b.DatasetId == dataset.Id).ExecuteDeleteAsync(ct);
    }
}

/// <summary>Cancelling an ingestion job cancels its batch (in time or too late, never half): see <see cref="IngestionService.CancelAsync"/>.</summary>
public sealed class BatchJobCanceller(CatalogDb db, IngestionService ingestion) : IJobCanceller
{
    public async Task<JobCancelResult> CancelAsync(JobRun run, string actor, CancellationToken ct)
    {
        var batch = await db.Set<Batch>().AsNoTracking().FirstOrDefaultAsync(b => b.Id == run.TargetId, ct);
        return batch is null ? JobCancelResult.Finished(run.Status) : await ingestion.CancelBatchAsync(batch, actor, ct);
    }
}
