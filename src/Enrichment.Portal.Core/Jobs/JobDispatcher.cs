using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// The one Hangfire entry point: selects the run's sandbox in this job's scope and calls the registered
/// <see cref="IPortalJob"/> of its kind. Status bookkeeping is done by <see cref="JobRunFilter"/>.
/// <para>On PostgreSQL (several processes share the queue) a run executes under its own session advisory lock, so two
/// processes never run the same job run at the same time: a second delivery (a worker presumed dead, a re-queue at start)
/// waits for the first to end, and then finds the run finished or, if its process died, takes it over. The lock goes with
/// the connection of a killed process.</para>
/// </summary>
public sealed class JobDispatcher(IServiceProvider services, SandboxContext sandbox, JobProgress progress)
{
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string jobRunId, CancellationToken ct)
    {
        var db = services.GetRequiredService<CatalogDb>();
        await using var lease = await AdvisoryLock.AcquireAsync(db, "job-run/" + jobRunId, ct);
        var run = await db.Set<JobRun>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(r => r.Id == jobRunId, ct)
                  ?? throw new InvalidOperationException($"Job run {jobRunId} does not exist.");
        if (run.Status == JobStatus.Cancelled) return;
        if (JobStatus.IsFinal(run.Status)) throw new JobRunAlreadyFinishedException(run.Id, run.Status);
        sandbox.SandboxId = run.SandboxId;
        progress.JobRunId = run.Id;
        var job = services.GetRequiredKeyedService<IPortalJob>(run.Kind);
        await job.RunAsync(run.TargetId ?? "", ct);
        await progress.ReportAsync(1, progress.Text, force: true, ct: CancellationToken.None);
    }
}

/// <summary>A second delivery of a job run that another process has finished meanwhile: nothing is run or recorded.</summary>
public sealed class JobRunAlreadyFinishedException(string runId, string status)
    : Exception($"Job run {runId} has already finished ({status}) in another process; this delivery did nothing.");
