using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Jobs;

public static class JobServiceCollectionExtensions
{
    /// <summary>
    /// The portal's side of jobs: the kind registry, scheduler, dispatcher, progress, recovery, the job-run filter and the
    /// <c>diagnostic</c> job. The host adds Hangfire itself (storage, server).
    /// </summary>
    public static IServiceCollection AddJobs(this IServiceCollection services)
    {
        services.AddSingleton<JobKindRegistry>();
        services.AddScoped<JobScheduler>();
        services.AddScoped<JobDispatcher>();
        services.AddScoped<JobProgress>();
        services.AddScoped<JobRecovery>();
        services.AddSingleton<JobRunFilter>();
        services.AddPortalJob<DiagnosticJob>(DiagnosticJob.Kind, Auth.Policies.Admin);
        return services;
    }

    /// <summary>
    /// Registers a job kind: <see cref="JobScheduler.EnqueueAsync"/> with that kind runs <typeparamref name="TJob"/>.
    /// <paramref name="startPolicy"/>: the policy of the roles that may start (and therefore cancel) it.
    /// </summary>
    public static IServiceCollection AddPortalJob<TJob>(this IServiceCollection services, string kind, string startPolicy) where TJob : class, IPortalJob
    {
        services.AddKeyedScoped<IPortalJob, TJob>(kind);
        services.Configure<JobKindOptions>(o => { o.Kinds.Add(kind); o.StartPolicies[kind] = startPolicy; });
        return services;
    }

    /// <summary>Registers how jobs of a kind are cancelled when their work has a record of its own (see <see cref="IJobCanceller"/>).</summary>
    public static IServiceCollection AddJobCanceller<TCanceller>(this IServiceCollection services, string kind) where TCanceller : class, IJobCanceller =>
        services.AddKeyedScoped<IJobCanceller, TCanceller>(kind);
}
