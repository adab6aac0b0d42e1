using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Hangfire.Common;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// The one global Hangfire filter that keeps the catalog's <see cref="JobRun"/> rows true: running when a job
/// starts (counting attempts), succeeded or failed (with the reason) when it ends.
/// </summary>
public sealed class JobRunFilter(IServiceScopeFactory scopes, TimeProvider clock, ILogger<JobRunFilter> log) : JobFilterAttribute, IServerFilter
{
    public void OnPerforming(PerformingContext context)
    {
        if (RunIdOf(context.BackgroundJob.Job) is not { } runId) return;
        var now = clock.GetUtcNow();
        // Only a run still to do: a duplicate delivery of a finished run leaves its row alone (see JobDispatcher).
        Update(runId, q => q.Where(r => r.Status == JobStatus.Queued || r.Status == JobStatus.Running).ExecuteUpdate(s => s
            .SetProperty(r => r.Status, JobStatus.Running)
            .SetProperty(r => r.Attempts, r => r.Attempts + 1)
            .SetProperty(r => r.StartedAt, now)
            .SetProperty(r => r.HeartbeatAt, now)
            .SetProperty(r => r.FinishedAt, (DateTimeOffset?)null)
            .SetProperty(r => r.Error, (string?)null)));
    }

    public void OnPerformed(PerformedContext context)
    {
        if (RunIdOf(context.BackgroundJob.Job) is not { } runId) return;
        var now = clock.GetUtcNow();
        var error = context.Exception is { } ex && !context.ExceptionHandled ? Describe(ex) : null;
        var shuttingDown = context.CancellationToken?.ShutdownToken.IsCancellationRequested == true;
        if (Unwrap(context.Exception) is JobRunAlreadyFinishedException) return;
        if (error is not null && (shuttingDown || context.Canceled))
        {
            // Shutdown: leave it 'running' so that the next start re-enqueues it (see JobRecovery).
            log.LogWarning("Job run {RunId} was interrupted by shutdown; it will be re-queued at the next start", runId);
            return;
        }
        var status = error is null ? JobStatus.Succeeded : JobStatus.Failed;
        if (error is not null) log.LogWarning("Job run {RunId} failed: {Error}", runId, error);
        Update(runId, q => q.Where(r => r.Status != JobStatus.Cancelled).ExecuteUpdate(s => s
            .SetProperty(r => r.Status, status)
            .SetProperty(r => r.FinishedAt, now)
            .SetProperty(r => r.Progress, r => error == null ? 1.0 : r.Progress)
            .SetProperty(r => r.Error, error)));
    }

    private static Exception? Unwrap(Exception? ex)
    {
        while (ex is AggregateException or JobPerformanceException or System.Reflection.TargetInvocationException && ex.InnerException is { } inner)
            ex = inner;
        return ex;
    }

    internal static string Describe(Exception ex)
    {
        while (ex is AggregateException or JobPerformanceException or System.Reflection.TargetInvocationException && ex.InnerException is { } inner)
            ex = inner;
        return ex is JobFailedException ? ex.Message : $"{ex.Message} ({ex.GetType().Name})";
    }

    private static string? RunIdOf(Job job) =>
        job.Type == typeof(JobDispatcher) && job.Args.Count > 0 ? job.Args[0] as string : null;

    private void Update(string runId, Action<IQueryable<JobRun>> update)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        update(db.Set<JobRun>().IgnoreQueryFilters().Where(r => r.Id == runId));
    }
}

/// <summary>Thrown by a job for an expected failure: its message is shown to the user as is.</summary>
public sealed class JobFailedException(string message, Exception? inner = null) : Exception(message, inner);
