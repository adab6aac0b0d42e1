using Enrichment.Portal.Core.Jobs;
using Hangfire;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>Registers the daily profile snapshot (<see cref="ProfileSnapshotScheduler.Cron"/>) with Hangfire at start.</summary>
public sealed class ProfileSnapshotStartup(IRecurringJobManager recurring) : IStartupTask
{
    public Task RunAsync(CancellationToken ct)
    {
        recurring.AddOrUpdate<ProfileSnapshotScheduler>(ProfileSnapshotScheduler.RecurringId, s => s.EnqueueAllAsync(CancellationToken.None),
            ProfileSnapshotScheduler.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        return Task.CompletedTask;
    }
}
