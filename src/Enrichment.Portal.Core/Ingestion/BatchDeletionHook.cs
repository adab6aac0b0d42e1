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
            await jobs.CancelAsync(b.JobRunId!, ct);
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
