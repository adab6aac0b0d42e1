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
        services.AddPortalJob<DiagnosticJob>(DiagnosticJob.Kind);
        return services;
    }

    /// <summary>Registers a job kind: <see cref="JobScheduler.EnqueueAsync"/> with that kind runs <typeparamref name="TJob"/>.</summary>
    public static IServiceCollection AddPortalJob<TJob>(this IServiceCollection services, string kind) where TJob : class, IPortalJob
    {
        services.AddKeyedScoped<IPortalJob, TJob>(kind);
        services.Configure<JobKindOptions>(o => o.Kinds.Add(kind));
        return services;
    }
}
