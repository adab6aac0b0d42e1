using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// The one Hangfire entry point: selects the run's sandbox in this job's scope and calls the registered
/// <see cref="IPortalJob"/> of its kind. Status bookkeeping is done by <see cref="JobRunFilter"/>.
/// <para>On PostgreSQL (several processes share the queue) a run executes under its own session advisory lock, so two
/// processes never run the same job run at the same time: a second delivery (a worker presumed dead, a re-queue at start)
/// waits for the first to end, and then finds the run finished or, if its process died, takes it over. The lock goes with
/// the connection of a killed process.</para>
/// </summary>
public sealed class JobDispatcher(IServiceProvider services, SandboxContext sandbox, JobProgress progress, ILogger<JobDispatcher> log)
{
    /// <summary>How often one delivery runs its job again after losing the database connection (PostgreSQL restarted or the
    /// backends terminated) before it fails the run.</summary>
    internal const int ConnectionLossRetries = 3;

    /// <summary>How long a delivery waits for the database to answer again after a connection loss.</summary>
    internal static TimeSpan DatabaseWait { get; set; } = TimeSpan.FromMinutes(5);

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string jobRunId, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (attempt == 0)
                {
                    await RunOnceAsync(services, sandbox, progress, jobRunId, ct);
                    return;
                }
                // A fresh scope: the first one's contexts may hold broken connections.
                await using var scope = services.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
                var sp = scope.ServiceProvider;
                await RunOnceAsync(sp, sp.GetRequiredService<SandboxContext>(), sp.GetRequiredService<JobProgress>(), jobRunId, ct);
                return;
            }
            catch (Exception e) when (attempt < ConnectionLossRetries && !ct.IsCancellationRequested && IsConnectionLoss(e)
                                      && AdvisoryLock.IsPostgres(services.GetRequiredService<CatalogDb>()))
            {
                // Every job is idempotent (a batch replaces its folder, its profile chunks are upserts; the chunk that was being
                // written was rolled back with its connection): once PostgreSQL answers again, run it again from the start.
                log.LogWarning(e, "Job run {RunId} lost its database connection; running it again when the database answers ({Attempt}/{Max})",
                    jobRunId, attempt + 1, ConnectionLossRetries);
                await WaitForDatabaseAsync(services.GetRequiredService<CatalogDb>().Database.GetConnectionString()!, ct);
            }
        }
    }

    private static async Task RunOnceAsync(IServiceProvider sp, SandboxContext sandbox, JobProgress progress, string jobRunId, CancellationToken ct)
    {
        var db = sp.GetRequiredService<CatalogDb>();
        await using var lease = await AdvisoryLock.AcquireAsync(db, "job-run/" + jobRunId, ct);
        var run = await db.Set<JobRun>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(r => r.Id == jobRunId, ct)
                  ?? throw new InvalidOperationException($"Job run {jobRunId} does not exist.");
        if (run.Status == JobStatus.Cancelled) return;
        if (JobStatus.IsFinal(run.Status)) throw new JobRunAlreadyFinishedException(run.Id, run.Status);
        sandbox.SandboxId = run.SandboxId;
        progress.JobRunId = run.Id;
        var job = sp.GetRequiredKeyedService<IPortalJob>(run.Kind);
        await job.RunAsync(run.TargetId ?? "", ct);
        await progress.ReportAsync(1, progress.Text, force: true, ct: CancellationToken.None);
    }

    /// <summary>Whether <paramref name="e"/> (or an exception inside it) is the loss of the PostgreSQL connection: a socket or
    /// stream error, or the server ending the session (admin / crash shutdown, cannot connect now, connection exceptions).</summary>
    internal static bool IsConnectionLoss(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is AggregateException agg && agg.InnerExceptions.Any(IsConnectionLoss)) return true;
            if (e is PostgresException pg)
            {
                if (pg.SqlState is "57P01" or "57P02" or "57P03" || pg.SqlState.StartsWith("08", StringComparison.Ordinal)) return true;
                continue;
            }
            if (e is NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or EndOfStreamException or TimeoutException }) return true;
            if (e is NpgsqlException n && n.Message.Contains("Exception while", StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>Polls the database on a connection of its own until it answers, then drops the pooled connections (PostgreSQL
    /// ended them; the pool does not know yet).</summary>
    private async Task WaitForDatabaseAsync(string connectionString, CancellationToken ct)
    {
        var cs = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        var until = DateTime.UtcNow + DatabaseWait;
        while (true)
        {
            try
            {
                await using var c = new NpgsqlConnection(cs);
                await c.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand("SELECT 1", c);
                await cmd.ExecuteScalarAsync(ct);
                break;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && DateTime.UtcNow < until)
            {
                log.LogDebug(e, "The database does not answer yet");
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
        NpgsqlConnection.ClearAllPools();
    }
}

/// <summary>A second delivery of a job run that another process has finished meanwhile: nothing is run or recorded.</summary>
public sealed class JobRunAlreadyFinishedException(string runId, string status)
    : Exception($"Job run {runId} has already finished ({status}) in another process; this delivery did nothing.");
