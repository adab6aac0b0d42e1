using Enrichment.Portal.Core.Profiles;
using Hangfire;

namespace Enrichment.Portal.Web.Hosting;

/// <summary>Registers the daily profile snapshot (<see cref="ProfileSnapshotScheduler.Cron"/>) with Hangfire at start.</summary>
public sealed class ProfileSnapshotStartup(IRecurringJobManager recurring) : IStartupTask
{
    public Task RunAsync(CancellationToken ct)
    {
        recurring.AddOrUpdate<ProfileSnapshotScheduler>(ProfileSnapshotScheduler.RecurringId, s => s.EnqueueAllAsync(CancellationToken.None),
            ProfileSnapshotScheduler.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        return Task.CompletedTask;
    }

    /// <summary>The profile store services, jobs and this startup task.</summary>
    public static void AddProfilesArea(IServiceCollection services)
    {
        services.AddProfiles();
        services.AddScoped<IStartupTask, ProfileSnapshotStartup>();
    }
}
