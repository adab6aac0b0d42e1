using Enrichment.Portal.Core.Catalog;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>Starts background work: a <see cref="JobRun"/> row in the catalog, then a Hangfire job that executes it.</summary>
public sealed class JobScheduler(CatalogDb db, IBackgroundJobClient client, JobKindRegistry kinds, TimeProvider clock)
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

    /// <summary>Asks a queued or running job to stop; it ends as cancelled.</summary>
    public async Task<bool> CancelAsync(string runId, CancellationToken ct = default)
    {
        var run = await db.Set<JobRun>().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null || JobStatus.IsFinal(run.Status)) return false;
        run.Status = JobStatus.Cancelled;
        run.FinishedAt = clock.GetUtcNow();
        run.Error = "Cancelled by " + "user";
        await db.SaveChangesAsync(ct);
        if (run.HangfireJobId is not null) client.Delete(run.HangfireJobId);
        return true;
    }
}
