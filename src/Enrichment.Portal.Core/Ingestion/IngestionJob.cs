using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// The background job of one uploaded batch (kind <c>ingestion</c>, target = batch id): runs <see cref="BatchIngestor"/> from the
/// kept raw file into the batch's lake folder, with live progress on the batch row and the job run, records the validate and
/// lake stages, then hands the batch to the <see cref="IngestionPipeline"/> for the stages after the lake. Idempotent: a re-run (crash, restart, retry) replaces the
/// batch folder atomically, so rows are stored exactly once; a batch already successful is left alone.
/// </summary>
public sealed class IngestionJob(
    CatalogDb db, IDbContextFactory<CatalogDb> factory, LakeCatalog lake, IngestionService ingestion, BatchIngestor ingestor,
    BatchStageRecorder stages, IngestionPipeline pipeline, DatasetCounts counts, JobProgress progress, TimeProvider clock, ILogger<IngestionJob> log,
    Microsoft.Extensions.Options.IOptions<GuardrailOptions> guardrails) : IPortalJob
{
    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var batch = await db.Set<Batch>().AsNoTracking().FirstOrDefaultAsync(b => b.Id == targetId, ct);
        if (batch is null || batch.Status is BatchStatus.Success or BatchStatus.Abandoned) return;
        var dataset = await lake.FindAsync(batch.DatasetId, ct);
        if (dataset is null) { await FailAsync(batch.Id, "The dataset was deleted before the batch was ingested."); return; }
        if (batch.RawPath is null || !File.Exists(batch.RawPath)) { await FailAsync(batch.Id, "The raw file of this batch is missing."); throw new JobFailedException("The raw file of this batch is missing."); }

        var now = clock.GetUtcNow();
        await Update(batch.Id, s => s.SetProperty(b => b.Status, BatchStatus.Processing).SetProperty(b => b.StartedAt, now)
            .SetProperty(b => b.CompletedAt, (DateTimeOffset?)null).SetProperty(b => b.FailureReason, (string?)null)
            .SetProperty(b => b.RecordsRead, 0L).SetProperty(b => b.RecordsWritten, 0L).SetProperty(b => b.RecordsFailed, 0L)
            .SetProperty(b => b.RecordsWithoutIdentity, 0L).SetProperty(b => b.BytesRead, 0L).SetProperty(b => b.Attempts, b => b.Attempts + 1)
            .SetProperty(b => b.CommitStartedAt, (DateTimeOffset?)null));
        await stages.ResetAsync(batch.Id, ct);
        await stages.StartAsync(batch.Id, BatchStages.Validate, ct);
        await progress.ReportAsync(0, "Reading " + batch.FileName, force: true, ct: ct);

        var folder = lake.BatchFolder(dataset.SandboxId, dataset.Id, batch.Id);
        var request = new IngestRequest(batch.RawPath, batch.FileName ?? Path.GetFileName(batch.RawPath), dataset.Schema, await ingestion.NamespacesAsync(ct), folder, batch.Id)
        { Options = batch.Options.ToIngestOptions().WithLimits(guardrails.Value) };

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var latest = new LatestProgress();
        var run = ingestor.IngestAsync(request, latest, cts.Token);
        var abandoned = false;
        using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, timer.WaitForNextTickAsync(CancellationToken.None).AsTask());
                if (run.IsCompleted) break;
                try { abandoned = await ReportAsync(batch.Id, latest.Value, dataset.ProfileEnabled ? ProfileEnabledReadShare : 0.98, ct) || abandoned; }
                catch (Exception ex) when (ex is not OperationCanceledException) { log.LogDebug(ex, "Progress of batch {BatchId} not written", batch.Id); }
                if (abandoned) cts.Cancel();
            }
        }

        IngestResult result;
        try { result = await run; }
        catch (OperationCanceledException)
        {
            if (!abandoned && await StatusAsync(batch.Id) != BatchStatus.Abandoned) throw;
            await stages.FinishAsync(batch.Id, BatchStages.Validate, BatchStatus.Abandoned, "cancelled", CancellationToken.None);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await FailAsync(batch.Id, "Ingestion stopped: " + ex.Message);
            throw;
        }

        foreach (var st in result.Stages)
            await stages.RecordAsync(batch.Id, st.Name, result.Failed && st.Name == BatchStages.Lake ? BatchStatus.Failed : BatchStatus.Success, st.StartedAt, st.FinishedAt,
                st.Name == BatchStages.Validate ? $"{result.RecordsRead:N0} read, {result.RecordsFailed:N0} rejected" : $"{result.Files.Count} file(s)", CancellationToken.None);
        var summary = Batch.ToJson(result.ErrorSummary);
        var files = Batch.ToJson(result.Files);
        var format = result.Format?.ToString().ToLowerInvariant();
        await Update(batch.Id, s => s.SetProperty(b => b.RecordsRead, result.RecordsRead).SetProperty(b => b.RecordsWritten, result.RecordsWritten)
            .SetProperty(b => b.RecordsFailed, result.RecordsFailed).SetProperty(b => b.RecordsWithoutIdentity, result.RecordsWithoutIdentity)
            .SetProperty(b => b.ErrorSummaryJson, summary).SetProperty(b => b.FilesJson, files).SetProperty(b => b.Format, format)
            .SetProperty(b => b.LargestRecordBytes, result.LargestRecordBytes).SetProperty(b => b.MostArrayItems, result.MostArrayItems)
            .SetProperty(b => b.BytesRead, b => b.FileBytes));

        if (result.Failed)
        {
            await FailAsync(batch.Id, result.FailureReason ?? "The batch failed.");
            await counts.RecountAsync(batch.DatasetId, CancellationToken.None);
            throw new JobFailedException("The batch failed: " + result.FailureReason);
        }
        // The commit point: from here a cancel is too late. One conditional update, so a cancel and the commit never both win.
        if (!await ClaimCommitAsync(batch.Id))
        {
            LakeFolders.Uncommit(folder);
            await stages.FinishAsync(batch.Id, BatchStages.Lake, BatchStatus.Abandoned, "cancelled before the profile stages", CancellationToken.None);
            return;
        }
        // A profile-enabled batch reports the identity and profile stages after this (IdentityAndProfileStage), up to 0.99.
        await progress.ReportAsync(dataset.ProfileEnabled ? ProfileEnabledReadShare : 0.99, $"{result.RecordsWritten:N0} records stored; finishing", force: true, ct: ct);
        var fresh = await db.Set<Batch>().AsNoTracking().FirstAsync(b => b.Id == batch.Id, ct);
        await pipeline.CommitAsync(fresh, dataset, result.Files.Select(f => Path.Combine(folder, f.Name)).ToList(), ct);
        await progress.ReportAsync(1, $"{result.RecordsWritten:N0} records stored, {result.RecordsFailed:N0} rejected", force: true, ct: ct);
    }

    /// <summary>The share of a profile-enabled batch's progress that reading and writing the lake stands for; the identity and
    /// profile stages (slower per record) report the rest.</summary>
    public const double ProfileEnabledReadShare = 0.5;

    /// <summary>Writes progress to the batch row and the job run; true when the batch was abandoned meanwhile.</summary>
    private async Task<bool> ReportAsync(string batchId, IngestProgress? p, double readShare, CancellationToken ct)
    {
        if (p is not null)
        {
            await Update(batchId, s => s.SetProperty(b => b.RecordsRead, p.RecordsRead).SetProperty(b => b.RecordsFailed, p.RecordsFailed).SetProperty(b => b.BytesRead, p.BytesRead));
            var fraction = p.TotalBytes > 0 ? Math.Min(readShare, readShare * p.BytesRead / p.TotalBytes) : 0;
            await progress.ReportAsync(fraction, $"{p.RecordsRead:N0} records read, {p.RecordsFailed:N0} rejected", ct: ct);
        }
        return await StatusAsync(batchId) == BatchStatus.Abandoned;
    }

    private async Task<bool> ClaimCommitAsync(string batchId)
    {
        var now = clock.GetUtcNow();
        await using var c = factory.CreateDbContext();
        return await c.Set<Batch>().Where(b => b.Id == batchId && b.Status == BatchStatus.Processing && b.CommitStartedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.CommitStartedAt, now), CancellationToken.None) == 1;
    }

    private async Task<string?> StatusAsync(string batchId)
    {
        await using var c = factory.CreateDbContext();
        return await c.Set<Batch>().Where(b => b.Id == batchId).Select(b => b.Status).FirstOrDefaultAsync();
    }

    private async Task FailAsync(string batchId, string reason)
    {
        var now = clock.GetUtcNow();
        await Update(batchId, s => s.SetProperty(b => b.Status, BatchStatus.Failed).SetProperty(b => b.FailureReason, reason).SetProperty(b => b.CompletedAt, now));
    }

    private async Task Update(string batchId, Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<Batch>> set)
    {
        await using var c = factory.CreateDbContext();
        await c.Set<Batch>().Where(b => b.Id == batchId && b.Status != BatchStatus.Abandoned).ExecuteUpdateAsync(set, CancellationToken.None);
    }

    private sealed class LatestProgress : IProgress<IngestProgress>
    {
        private IngestProgress? value;
        public IngestProgress? Value => Volatile.Read(ref value);
        public void Report(IngestProgress p) => Volatile.Write(ref value, p);
    }
}
