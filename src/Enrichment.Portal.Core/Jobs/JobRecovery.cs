using Enrichment.Portal.Core.Catalog;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// At start: runs left queued or running by a process that died are handed to the queue again, once. A run found
/// interrupted a second time is marked failed with the reason. With a shared (PostgreSQL) queue only runs whose
/// heartbeat is stale are touched, since another live process may be running them, and only those whose Hangfire job is
/// gone or ended: a job still enqueued or processing in the shared storage is Hangfire's to deliver (a job of a killed
/// worker becomes visible again after <c>Jobs:InvisibilityTimeoutSeconds</c> and another worker takes it), and
/// submitting it a second time would run it twice.
/// </summary>
public sealed class JobRecovery(CatalogDb db, IBackgroundJobClient client, TimeProvider clock, ILogger<JobRecovery> log, JobStorage? storage = null, IServiceProvider? services = null)
{
    public const int MaxAttempts = 2;

    public async Task<int> RecoverAsync(bool sharedQueue, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var stale = now - TimeSpan.FromMinutes(2);
        var runs = await db.Set<JobRun>().IgnoreQueryFilters()
            .Where(r => r.Status == JobStatus.Running || r.Status == JobStatus.Queued).ToListAsync(ct);
        var requeue = new List<JobRun>();
        var givenUp = new List<JobRun>();
        foreach (var run in runs)
        {
            if (sharedQueue && (run.Status == JobStatus.Queued || (run.HeartbeatAt ?? run.StartedAt ?? run.CreatedAt) > stale || HangfireHasIt(run))) continue;
            if (run.Status == JobStatus.Running && run.Attempts >= MaxAttempts)
            {
                run.Status = JobStatus.Failed;
                run.FinishedAt = now;
                run.Error = $"The process running this job stopped {run.Attempts} times before it finished; it was not restarted again.";
                log.LogWarning("Job run {RunId} ({Kind}) marked failed after {Attempts} interrupted attempts", run.Id, run.Kind, run.Attempts);
                givenUp.Add(run);
                continue;
            }
            run.Status = JobStatus.Queued;
            run.ProgressText = "Re-queued after a restart";
            requeue.Add(run);
            log.LogInformation("Re-queueing job run {RunId} ({Kind}) left unfinished by a stopped process", run.Id, run.Kind);
        }
        await db.SaveChangesAsync(ct);
        foreach (var run in givenUp)
            if (services?.GetKeyedService<IJobGiveUp>(run.Kind) is { } hook)
                try { await hook.OnGivenUpAsync(run, run.Error!, ct); }
                catch (Exception ex) when (ex is not OperationCanceledException) { log.LogError(ex, "The record of job run {RunId} ({Kind}) was not marked failed", run.Id, run.Kind); }
        foreach (var run in requeue)
            await JobScheduler.SubmitAsync(db, client, run, ct);
        return requeue.Count;
    }

    /// <summary>Whether the run's Hangfire job is still waiting or being processed in the storage (so Hangfire delivers it).</summary>
    private bool HangfireHasIt(JobRun run)
    {
        if (storage is null || run.HangfireJobId is null) return false;
        using var connection = storage.GetConnection();
        var state = connection.GetStateData(run.HangfireJobId)?.Name;
        return state == Hangfire.States.EnqueuedState.StateName || state == Hangfire.States.ProcessingState.StateName
            || state == Hangfire.States.ScheduledState.StateName || state == Hangfire.States.AwaitingState.StateName;
    }
}
