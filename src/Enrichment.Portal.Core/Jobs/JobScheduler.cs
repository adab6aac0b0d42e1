using Enrichment.Portal.Core.Catalog;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>Starts background work: a <see cref="JobRun"/> row in the catalog, then a Hangfire job that executes it.</summary>
public sealed class JobScheduler(CatalogDb db, IBackgroundJobClient client, JobKindRegistry kinds, TimeProvider clock, IServiceProvider services)
{
    public async Task<JobRun> EnqueueAsync(string kind, string? targetId, string? createdBy, CancellationToken ct = default)
    {
        if (!kinds.Contains(kind)) throw new ArgumentException($"Unknown job kind '{kind}'.", nameof(kind));
        var run = new JobRun { Kind = kind, TargetId = targetId, CreatedBy = createdBy, CreatedAt = clock.GetUtcNow() };
        db.Add(run);
        await db.SaveChangesAsync(ct);
        await SubmitAsync(db, client, run, ct);
        return run;
    }

    /// <summary>Hands an existing run to Hangfire (new, or re-enqueued after a restart).</summary>
    internal static async Task SubmitAsync(CatalogDb db, IBackgroundJobClient client, JobRun run, CancellationToken ct)
    {
        var runId = run.Id;
        var hangfireId = client.Enqueue<JobDispatcher>(d => d.RunAsync(runId, CancellationToken.None));
        run.HangfireJobId = hangfireId;
        await db.Set<JobRun>().IgnoreQueryFilters().Where(r => r.Id == runId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.HangfireJobId, hangfireId), ct);
    }

    /// <summary>
    /// Stops a queued or running job. A kind with an <see cref="IJobCanceller"/> (ingestion) decides with its record whether
    /// the cancel is in time; other kinds end cancelled at once and their work stops at its next cancellation check.
    /// </summary>
    public async Task<JobCancelResult> CancelAsync(string runId, string actor, CancellationToken ct = default)
    {
        var run = await db.Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
                  ?? throw new InvalidOperationException($"No job run {runId} in this sandbox.");
        if (JobStatus.IsFinal(run.Status)) return JobCancelResult.Finished(run.Status);
        if (services.GetKeyedService<IJobCanceller>(run.Kind) is { } canceller) return await canceller.CancelAsync(run, actor, ct);
        return await MarkCancelledAsync(runId, actor, ct) ? JobCancelResult.Done : JobCancelResult.Finished(await StatusAsync(runId, ct));
    }

    /// <summary>Marks a run cancelled (if not final yet) and removes it from the queue; what an <see cref="IJobCanceller"/> calls once its record is cancelled.</summary>
    public async Task<bool> MarkCancelledAsync(string runId, string actor, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var reason = "Cancelled by " + actor;
        var n = await db.Set<JobRun>().Where(r => r.Id == runId && r.Status != JobStatus.Succeeded && r.Status != JobStatus.Failed && r.Status != JobStatus.Cancelled)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, JobStatus.Cancelled).SetProperty(r => r.FinishedAt, now).SetProperty(r => r.Error, reason), ct);
        if (n == 0) return false;
        var hangfireId = await db.Set<JobRun>().Where(r => r.Id == runId).Select(r => r.HangfireJobId).FirstOrDefaultAsync(ct);
        if (hangfireId is not null) client.Delete(hangfireId);
        return true;
    }

    private Task<string> StatusAsync(string runId, CancellationToken ct) =>
        db.Set<JobRun>().Where(r => r.Id == runId).Select(r => r.Status).FirstAsync(ct);
}
