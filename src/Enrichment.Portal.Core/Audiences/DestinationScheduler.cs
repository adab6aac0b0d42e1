using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Audiences;

internal static class DestinationRuns
{
    /// <summary>
    /// Runs of the destination still marked running when a new run starts were cut off by a crash or a cancel: only one run of
    /// a destination is queued or running at a time (<see cref="DestinationService.RunAsync"/>), so they are over.
    /// </summary>
    public static Task<int> MarkInterruptedAsync(CatalogDb db, string destinationId, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return db.Set<DestinationRun>().Where(r => r.DestinationId == destinationId && r.Status == "running")
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, "interrupted").SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, "The portal stopped during this run; the next run went on from the destination's cursor."), ct);
    }
}

/// <summary>A scheduled destination run that was started (or skipped, with the reason).</summary>
public sealed record ScheduledDestinationRun(string DestinationId, string SandboxId, string? JobRunId, string? Skipped);

/// <summary>
/// Fires destination schedules: every destination (any sandbox) whose <see cref="Destination.NextRunAt"/> has come gets a run
/// (job <c>destination-run</c>, created by <c>schedule</c>) and its next time from its cron. Claiming a firing is one conditional
/// update of <see cref="Destination.NextRunAt"/>, so a firing starts one run even with several processes on one catalog; firings
/// missed while the portal was down collapse into one run; a firing while the previous run is still going is skipped.
/// </summary>
public sealed class DestinationScheduler(CatalogDb db, IServiceScopeFactory scopes, ILogger<DestinationScheduler> log)
{
    public const string Actor = "schedule";

    public async Task<IReadOnlyList<ScheduledDestinationRun>> RunDueAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        var due = await db.Set<Destination>().IgnoreQueryFilters().AsNoTracking()
            .Where(d => d.Cron != null && d.NextRunAt != null && d.NextRunAt <= now)
            .Select(d => new { d.Id, d.SandboxId, d.Cron, d.NextRunAt }).ToListAsync(ct);
        var started = new List<ScheduledDestinationRun>();
        foreach (var d in due)
        {
            var next = DestinationService.NextOccurrence(d.Cron!, now);
            var was = d.NextRunAt;
            var claimed = await db.Set<Destination>().IgnoreQueryFilters().Where(x => x.Id == d.Id && x.NextRunAt == was)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.NextRunAt, next), ct);
            if (claimed == 0) continue;
            await using var scope = scopes.CreateSandboxScope(d.SandboxId);
            try
            {
                var run = await scope.ServiceProvider.GetRequiredService<DestinationService>().RunAsync(d.Id, Actor, ct);
                started.Add(new ScheduledDestinationRun(d.Id, d.SandboxId, run.Id, null));
                log.LogInformation("Scheduled run of destination {DestinationId}: job {JobRunId}", d.Id, run.Id);
            }
            catch (CatalogException e)
            {
                started.Add(new ScheduledDestinationRun(d.Id, d.SandboxId, null, e.Message));
                log.LogWarning("Scheduled run of destination {DestinationId} skipped: {Reason}", d.Id, e.Message);
            }
        }
        return started;
    }
}

/// <summary>Checks destination schedules every <c>Destinations:ScheduleCheckSeconds</c> (default 10) on the portal's clock.</summary>
public sealed class DestinationScheduleService(IServiceScopeFactory scopes, IOptionsMonitor<DestinationOptions> options, TimeProvider clock,
    ILogger<DestinationScheduleService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var seconds = Math.Clamp(options.CurrentValue.ScheduleCheckSeconds, 0.2, 3600);
            try { await Task.Delay(TimeSpan.FromSeconds(seconds), clock, stoppingToken); }
            catch (OperationCanceledException) { return; }
            try
            {
                await using var scope = scopes.CreateSandboxScope(null);
                await scope.ServiceProvider.GetRequiredService<DestinationScheduler>().RunDueAsync(clock.GetUtcNow(), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) { log.LogDebug(e, "Destination schedule check failed (the catalog may not be ready yet)"); }
        }
    }
}
