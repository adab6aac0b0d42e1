using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Models;

/// <summary>A training run whose job <see cref="JobRecovery"/> gave up on is marked failed with the reason.</summary>
public sealed class TrainingGiveUp(CatalogDb db, TimeProvider clock) : IJobGiveUp
{
    public async Task OnGivenUpAsync(JobRun run, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.Set<TrainingRun>().IgnoreQueryFilters().Where(r => r.Id == run.TargetId && (r.Status == TrainingStatus.Queued || r.Status == TrainingStatus.Running))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, TrainingStatus.Failed).SetProperty(r => r.Error, reason).SetProperty(r => r.FinishedAt, now), ct);
    }
}
