using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Lake;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>
/// The identity and profile stages of ingestion: after a batch of a profile-enabled dataset is committed to the lake
/// (an upload or a streaming micro-batch), it is stitched into the identity graph and merged into the profiles, and the
/// two stages are recorded on the batch with their times. Idempotent, as <see cref="ProfileStage"/> is.
/// </summary>
public sealed class IdentityAndProfileStage(ProfileStage stage, BatchStageRecorder stages, TimeProvider clock, Jobs.JobProgress? job = null) : IIdentityAndProfileStage
{
    public async Task RunAsync(Batch batch, LakeDataset dataset, IReadOnlyList<string> files, CancellationToken ct)
    {
        if (!dataset.ProfileEnabled) return;
        var started = clock.GetUtcNow();
        await stages.StartAsync(batch.Id, BatchStages.Identity, ct);
        ProfileStageResult result;
        try
        {
            // In an ingestion job the job's progress goes on from the lake's share to 0.99 per committed chunk (streaming has no job run).
            IProgress<ProfileIngestProgress>? progress = null;
            if (job?.JobRunId is not null && batch.RecordsWritten > 0)
            {
                var total = (double)batch.RecordsWritten;
                var from = IngestionJob.ProfileEnabledReadShare;
                progress = new SyncProgress<ProfileIngestProgress>(p => _ = SafeReport(from + (0.99 - from) * Math.Min(1, p.Records / total), $"{p.Records:N0} of {batch.RecordsWritten:N0} records in the profile store"));
            }
            result = await stage.ApplyCommittedBatchAsync(dataset.Id, batch.Id, progress, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await stages.FinishAsync(batch.Id, BatchStages.Identity, BatchStatus.Failed, ex.Message, CancellationToken.None);
            throw;
        }
        if (result.Skipped)
        {
            await stages.FinishAsync(batch.Id, BatchStages.Identity, BatchStatus.Success, "skipped: " + result.SkipReason, ct);
            return;
        }
        var r = result.Result!;
        var identityEnd = started + result.IdentityStage;
        await stages.RecordAsync(batch.Id, BatchStages.Identity, BatchStatus.Success, started, identityEnd,
            $"{r.IdentitiesAdded:N0} identities added, {r.ProfilesMerged:N0} profiles merged, {r.RecordsWithoutIdentity:N0} records without identity", ct);
        await stages.RecordAsync(batch.Id, BatchStages.Profile, BatchStatus.Success, identityEnd, identityEnd + result.ProfileStage,
            $"{r.ProfilesCreated:N0} profiles created, {r.ProfilesUpdated:N0} updated, {r.Events:N0} events", ct);
    }

    private async Task SafeReport(double fraction, string text)
    {
        try { await job!.ReportAsync(fraction, text, force: true); }
        catch (Exception) { /* progress is best effort */ }
    }

    /// <summary>Calls back on the reporting thread (<see cref="Progress{T}"/> would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
