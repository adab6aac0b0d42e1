using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// The one Hangfire entry point: selects the run's sandbox in this job's scope and calls the registered
/// <see cref="IPortalJob"/> of its kind. Status bookkeeping is done by <see cref="JobRunFilter"/>.
/// </summary>
public sealed class JobDispatcher(IServiceProvider services, SandboxContext sandbox, JobProgress progress)
{
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string jobRunId, CancellationToken ct)
    {
        var db = services.GetRequiredService<CatalogDb>();
        var run = await db.Set<JobRun>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(r => r.Id == jobRunId, ct)
                  ?? throw new InvalidOperationException($"Job run {jobRunId} does not exist.");
        if (run.Status == JobStatus.Cancelled) return;
        sandbox.SandboxId = run.SandboxId;
        progress.JobRunId = run.Id;
        var job = services.GetRequiredKeyedService<IPortalJob>(run.Kind);
        await job.RunAsync(run.TargetId ?? "", ct);
        await progress.ReportAsync(1, progress.Text, force: true, ct: CancellationToken.None);
    }
}
