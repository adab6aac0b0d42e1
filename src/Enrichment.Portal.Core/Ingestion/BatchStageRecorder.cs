using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// Records the stages of a batch (one row per batch and stage name; recording a stage again replaces it, so re-runs stay
/// idempotent). For the ingestion job and for <see cref="IBatchCommittedHook"/>s that add stages, e.g.
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

/// <summary>
/// Called after a batch's data is committed to the lake (an upload's lake stage, or a streaming micro-batch), before the
/// batch is marked <c>success</c>. The profile area registers one to feed the identity graph and the profile store
/// (recording its stages with <see cref="BatchStageRecorder"/>). Runs in the batch's sandbox; must be idempotent (a batch
/// can be re-run after a crash or a retry). Throwing fails the batch with the exception's message and un-commits its folder.
/// Register with <c>services.AddScoped&lt;IBatchCommittedHook, X&gt;()</c>.
/// </summary>
public interface IBatchCommittedHook
{
    Task OnBatchCommittedAsync(Batch batch, Lake.LakeDataset dataset, IReadOnlyList<string> files, CancellationToken ct);

    /// <summary>Called once the batch is marked successful (after every hook ran), e.g. to drop caches that count successful batches.</summary>
    Task OnBatchSucceededAsync(Batch batch, CancellationToken ct) => Task.CompletedTask;
}
