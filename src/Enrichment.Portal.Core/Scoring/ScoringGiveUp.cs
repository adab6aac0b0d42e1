using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Scoring;

/// <summary>A scoring run whose job <see cref="JobRecovery"/> gave up on is marked failed with the reason.</summary>
public sealed class ScoringGiveUp(CatalogDb db, TimeProvider clock) : IJobGiveUp
{
    public async Task OnGivenUpAsync(JobRun run, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.Set<ScoringRun>().IgnoreQueryFilters().Where(r => r.Id == run.TargetId && (r.Status == ScoringStatus.Queued || r.Status == ScoringStatus.Running))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, ScoringStatus.Failed).SetProperty(r => r.Error, reason).SetProperty(r => r.FinishedAt, now), ct);
    }
}
