using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Query;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Exploration;

public static class ExplorationServiceCollectionExtensions
{
    /// <summary>The sandbox query service (<c>Query:*</c>), dataset statistics (<c>Exploration:*</c>) and the statistics job.
    /// Needs the catalog, the lake catalog, schemas/datasets and the job scheduler.</summary>
    public static IServiceCollection AddQueryAndExploration(this IServiceCollection services)
    {
        services.AddOptions<QueryOptions>().BindConfiguration(QueryOptions.Section);
        services.AddOptions<ExplorationOptions>().BindConfiguration(ExplorationOptions.Section);
        services.TryAddSingleton(new QueryService());
        services.TryAddSingleton(TimeProvider.System);
        services.AddScoped<SandboxQueries>();
        services.AddSingleton<QueryAdmission>();
        services.AddScoped<ExplorationService>();
        services.AddPortalJob<DatasetStatsJob>(DatasetStatsJob.Kind, Auth.Policies.Scientist);
        return services;
    }
}
