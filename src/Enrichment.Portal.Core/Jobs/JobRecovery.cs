using Enrichment.Portal.Core.Catalog;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// At start: runs left queued or running by a process that died are handed to the queue again, once. A run found
/// interrupted a second time is marked failed with the reason. With a shared (PostgreSQL) queue only runs whose
/// heartbeat is stale are touched, since another live process may be running them.
/// </summary>
public sealed class JobRecovery(CatalogDb db, IBackgroundJobClient client, TimeProvider clock, ILogger<JobRecovery> log)
{
    public const int MaxAttempts = 2;

    public async Task<int> RecoverAsync(bool sharedQueue, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var stale = now - TimeSpan.FromMinutes(2);
        var runs = await db.Set<JobRun>().IgnoreQueryFilters()
            .Where(r => r.Status == JobStatus.Running || r.Status == JobStatus.Queued).ToListAsync(ct);
        var requeue = new List<JobRun>();
        foreach (var run in runs)
        {
            if (sharedQueue && (run.Status == JobStatus.Queued || (run.HeartbeatAt ?? run.StartedAt ?? run.CreatedAt) > stale)) continue;
            if (run.Status == JobStatus.Running && run.Attempts >= MaxAttempts)
            {
                run.Status = JobStatus.Failed;
                run.FinishedAt = now;
                run.Error = $"The process running this job stopped {run.Attempts} times before it finished; it was not restarted again.";
                log.LogWarning("Job run {RunId} ({Kind}) marked failed after {Attempts} interrupted attempts", run.Id, run.Kind, run.Attempts);
                continue;
            }
            run.Status = JobStatus.Queued;
            run.ProgressText = "Re-queued after a restart";
            requeue.Add(run);
            log.LogInformation("Re-queueing job run {RunId} ({Kind}) left unfinished by a stopped process", run.Id, run.Kind);
        }
        await db.SaveChangesAsync(ct);
        foreach (var run in requeue)
            await JobScheduler.SubmitAsync(db, client, run, ct);
        return requeue.Count;
    }
}
