using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Scoring;

/// <summary>A scheduled run that was started (or refused, with the reason).</summary>
public sealed record ScheduledStart(string ModelId, string SandboxId, string? RunId, string? Refused);

/// <summary>
/// Fires model schedules: every model (any sandbox) whose <see cref="Model.ScheduleNextRunAt"/> has come gets a scoring run with
/// trigger <c>schedule</c> (retraining first when the schedule says so), and its next time is computed from its cron. Claiming a
/// firing is one conditional update, so several processes sharing a catalog never start the same firing twice. Missed
/// firings (the portal was down) collapse into one run. Call <see cref="RunDueAsync"/> with any time (tests use a fake clock).
/// </summary>
public sealed class ScoringScheduler(CatalogDb db, IServiceScopeFactory scopes, ILogger<ScoringScheduler> log)
{
    public async Task<IReadOnlyList<ScheduledStart>> RunDueAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        var due = await db.Set<Model>().IgnoreQueryFilters().AsNoTracking()
            .Where(m => m.ScheduleCron != null && m.ScheduleNextRunAt != null && m.ScheduleNextRunAt <= now)
            .Select(m => new { m.Id, m.SandboxId, m.ScheduleCron, m.ScheduleRetrain, m.ScheduleNextRunAt }).ToListAsync(ct);
        var started = new List<ScheduledStart>();
        foreach (var m in due)
        {
            var next = ScoringService.NextOccurrence(m.ScheduleCron!, now);
            var was = m.ScheduleNextRunAt;
            var claimed = await db.Set<Model>().IgnoreQueryFilters().Where(x => x.Id == m.Id && x.ScheduleNextRunAt == was)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.ScheduleNextRunAt, next), ct);
            if (claimed == 0) continue;
            await using var scope = scopes.CreateSandboxScope(m.SandboxId);
            try
            {
                var run = await scope.ServiceProvider.GetRequiredService<ScoringService>()
                    .StartAsync(m.Id, null, "schedule", ScoringTrigger.Schedule, m.ScheduleRetrain, ct);
                started.Add(new ScheduledStart(m.Id, m.SandboxId, run.Id, null));
                log.LogInformation("Scheduled scoring of model {ModelId}: run {RunId}", m.Id, run.Id);
            }
            catch (CatalogException e)
            {
                started.Add(new ScheduledStart(m.Id, m.SandboxId, null, e.Message));
                log.LogWarning("Scheduled scoring of model {ModelId} not started: {Reason}", m.Id, e.Message);
            }
        }
        return started;
    }
}

/// <summary>Checks the schedules every <c>Scoring:ScheduleCheckSeconds</c> (default 10; read each time) on the portal's clock.</summary>
public sealed class ScoringScheduleService(IServiceScopeFactory scopes, IConfiguration config, TimeProvider clock, ILogger<ScoringScheduleService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var seconds = Math.Clamp(config.GetValue<double?>("Scoring:ScheduleCheckSeconds") ?? 10, 0.2, 3600);
            try { await Task.Delay(TimeSpan.FromSeconds(seconds), clock, stoppingToken); }
            catch (OperationCanceledException) { return; }
            try
            {
                await using var scope = scopes.CreateSandboxScope(null);
                await scope.ServiceProvider.GetRequiredService<ScoringScheduler>().RunDueAsync(clock.GetUtcNow(), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) { log.LogDebug(e, "Schedule check failed (the catalog may not be ready yet)"); }
        }
    }
}

/// <summary>
/// Fault injection for tests (off unless <see cref="ScoringJob.FailPointKey"/> is <c>after-lake:&lt;modelId&gt;</c>): fails the model's
/// scores batch after its lake stage and before the identity and profile stages, as a crash there would.
/// </summary>
public sealed class ScoringFaultHook(IConfiguration config, CatalogDb db) : IAfterLakeCheck
{
    public async Task RunAsync(Batch batch, LakeDataset dataset, IReadOnlyList<string> files, CancellationToken ct)
    {
        if (config[ScoringJob.FailPointKey] is not { } fp || !fp.StartsWith("after-lake:", StringComparison.Ordinal) || !dataset.System) return;
        var modelId = fp["after-lake:".Length..];
        var name = await db.Set<Model>().AsNoTracking().Where(m => m.Id == modelId).Select(m => m.Name).FirstOrDefaultAsync(ct);
        if (name is not null && dataset.Name == ScoringService.OutputDatasetName(name))
            throw new InvalidOperationException("Fault injected after the lake stage (" + ScoringJob.FailPointKey + ").");
    }
}

public static class ScoringServiceCollectionExtensions
{
    /// <summary>
    /// Scoring: the service, the <c>scoring</c> job, the schedule checker and the output writer. The test fault hook runs in the
    /// pipeline's after-lake slot, before the identity and profile stages.
    /// </summary>
    public static IServiceCollection AddScoring(this IServiceCollection services)
    {
        services.TryAddSingleton<ModelScorer>();
        services.TryAddSingleton<ModelArtifactCache>();
        services.AddScoped<ScoringService>();
        services.AddScoped<ScoringOutput>();
        services.AddScoped<ScoringScheduler>();
        services.AddScoped<IAfterLakeCheck, ScoringFaultHook>();
        services.AddPortalJob<ScoringJob>(ScoringService.JobKind, Auth.Policies.Scientist);
        services.AddKeyedScoped<IJobGiveUp, ScoringGiveUp>(ScoringService.JobKind);
        services.AddHostedService<ScoringScheduleService>();
        return services;
    }
}
