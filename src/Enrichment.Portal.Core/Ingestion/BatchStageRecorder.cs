using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// Records the stages of a batch (one row per batch and stage name; recording a stage again replaces it, so re-runs stay
/// idempotent). For the ingestion job and for the <see cref="IngestionPipeline"/> stages that add stages, e.g.
/// <c>await stages.RunAsync(batch.Id, BatchStages.Identity, () => ...)</c>. Works in the current sandbox; each call
/// uses its own short-lived context, so it is safe next to other work in a job.
/// </summary>
public sealed class BatchStageRecorder(IDbContextFactory<CatalogDb> factory, TimeProvider clock)
{
    /// <summary>Marks a stage started (status processing).</summary>
    public Task StartAsync(string batchId, string name, CancellationToken ct = default) =>
        RecordAsync(batchId, name, BatchStatus.Processing, clock.GetUtcNow(), null, null, ct);

    /// <summary>Marks a started stage finished; records it with start = end when it was never started.</summary>
    public async Task FinishAsync(string batchId, string name, string status = BatchStatus.Success, string? detail = null, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        var now = clock.GetUtcNow();
        var row = await db.Set<BatchStage>().FirstOrDefaultAsync(s => s.BatchId == batchId && s.Name == name, ct);
        if (row is null) db.Add(new BatchStage { BatchId = batchId, Name = name, StartedAt = now, FinishedAt = now, Status = status, Detail = detail });
        else { row.FinishedAt = now; row.Status = status; row.Detail = detail; }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Records a stage with known times (replacing an earlier record of the same stage).</summary>
    public async Task RecordAsync(string batchId, string name, string status, DateTimeOffset startedAt, DateTimeOffset? finishedAt, string? detail = null, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        var row = await db.Set<BatchStage>().FirstOrDefaultAsync(s => s.BatchId == batchId && s.Name == name, ct);
        if (row is null) db.Add(new BatchStage { BatchId = batchId, Name = name, Status = status, StartedAt = startedAt, FinishedAt = finishedAt, Detail = detail });
        else { row.Status = status; row.StartedAt = startedAt; row.FinishedAt = finishedAt; row.Detail = detail; }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Runs <paramref name="work"/> as a stage: started, then success, or failed with the exception's message (rethrown).</summary>
    public async Task RunAsync(string batchId, string name, Func<Task> work, CancellationToken ct = default)
    {
        await StartAsync(batchId, name, ct);
        try { await work(); }
        catch (Exception ex)
        {
            await FinishAsync(batchId, name, BatchStatus.Failed, ex.Message, CancellationToken.None);
            throw;
        }
        await FinishAsync(batchId, name, BatchStatus.Success, null, ct);
    }

    /// <summary>Removes the stages recorded after the upload (before a re-run).</summary>
    public async Task ResetAsync(string batchId, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        await db.Set<BatchStage>().Where(s => s.BatchId == batchId && s.Name != BatchStages.Upload).ExecuteDeleteAsync(ct);
    }

    public async Task<IReadOnlyList<BatchStage>> ListAsync(string batchId, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        var rows = await db.Set<BatchStage>().AsNoTracking().Where(s => s.BatchId == batchId).ToListAsync(ct);
        return rows.OrderBy(s => BatchStages.Order(s.Name)).ThenBy(s => s.StartedAt).ToList();
    }
}
