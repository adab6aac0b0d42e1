using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// The records of runs <see cref="JobRecovery"/> gave up on, marked failed with its reason (they were left <c>processing</c> /
/// <c>running</c>, which the UI showed forever and a batch retry refused with 409). A batch's lake folder is taken out of what
/// readers see, as for any batch that fails after the lake stage; a retry writes it again.
/// </summary>
public sealed class BatchGiveUp(CatalogDb db, LakeCatalog lake, TimeProvider clock) : IJobGiveUp
{
    public async Task OnGivenUpAsync(JobRun run, string reason, CancellationToken ct)
    {
        var batch = await db.Set<Batch>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(b => b.Id == run.TargetId, ct);
        if (batch is null || batch.Status is not (BatchStatus.Queued or BatchStatus.Processing)) return;
        LakeFolders.Uncommit(lake.BatchFolder(batch.SandboxId, batch.DatasetId, batch.Id));
        var now = clock.GetUtcNow();
        await db.Set<Batch>().IgnoreQueryFilters().Where(b => b.Id == batch.Id && (b.Status == BatchStatus.Queued || b.Status == BatchStatus.Processing))
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BatchStatus.Failed).SetProperty(b => b.FailureReason, reason).SetProperty(b => b.CompletedAt, now), ct);
    }
}
