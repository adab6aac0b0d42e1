using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Scoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// The records of runs <see cref="JobRecovery"/> gave up on, marked failed with its reason (they were left <c>processing</c> /
/// <c>running</c>, which the UI showed forever and a batch retry refused with 409). A batch's lake folder is taken out of what
/// readers see, as for any batch that fails after the lake stage; a retry writes it again.
/// </summary>
public sealed class BatchGiveUp(CatalogDb db, LakeCatalog lake, TimeProvider clock) : IJobGiveUp
{
    public async Task OnGivenUpAsync(JobRun run, string reason, CancellationToken ct)
    {
        var batch = await db.Set<Batch>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(b => b.Id == run.TargetId, ct);
        if (batch is null || batch.Status is not (BatchStatus.Queued or BatchStatus.Processing)) return;
        LakeFolders.Uncommit(lake.BatchFolder(batch.SandboxId, batch.DatasetId, batch.Id));
        var now = clock.GetUtcNow();
        await db.Set<Batch>().IgnoreQueryFilters().Where(b => b.Id == batch.Id && (b.Status == BatchStatus.Queued || b.Status == BatchStatus.Processing))
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BatchStatus.Failed).SetProperty(b => b.FailureReason, reason).SetProperty(b => b.CompletedAt, now), ct);
    }
}

public sealed class TrainingGiveUp(CatalogDb db, TimeProvider clock) : IJobGiveUp
{
    public async Task OnGivenUpAsync(JobRun run, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.Set<TrainingRun>().IgnoreQueryFilters().Where(r => r.Id == run.TargetId && (r.Status == TrainingStatus.Queued || r.Status == TrainingStatus.Running))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, TrainingStatus.Failed).SetProperty(r => r.Error, reason).SetProperty(r => r.FinishedAt, now), ct);
    }
}

public sealed class ScoringGiveUp(CatalogDb db, TimeProvider clock) : IJobGiveUp
{
    public async Task OnGivenUpAsync(JobRun run, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.Set<ScoringRun>().IgnoreQueryFilters().Where(r => r.Id == run.TargetId && (r.Status == ScoringStatus.Queued || r.Status == ScoringStatus.Running))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ScoringStatus.Failed).SetProperty(r => r.Error, reason).SetProperty(r => r.FinishedAt, now), ct);
    }
}

public static class JobGiveUpServiceCollectionExtensions
{
    /// <summary>The give-up hooks of the ingestion, training and scoring kinds.</summary>
    public static IServiceCollection AddJobGiveUps(this IServiceCollection services)
    {
        services.AddKeyedScoped<IJobGiveUp, BatchGiveUp>(IngestionService.JobKind);
        services.AddKeyedScoped<IJobGiveUp, TrainingGiveUp>(ModelService.JobKind);
        services.AddKeyedScoped<IJobGiveUp, ScoringGiveUp>(ScoringService.JobKind);
        return services;
    }
}
