using Enrichment.Portal.Core.Demo;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Guardrails;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core;

public static class PortalCoreServiceCollectionExtensions
{
    /// <summary>
    /// Every area of the portal's core, storage first, then the data path (docs/ARCHITECTURE.md). The host adds what is
    /// its own: sign-in, Hangfire's storage and server, the UI and the API.
    /// </summary>
    /// <param name="postgres">The catalog provider: PostgreSQL, or SQLite (default).</param>
    /// <param name="connectionString">The catalog's connection string, read when first needed.</param>
    public static IServiceCollection AddPortalCore(this IServiceCollection services, bool postgres, Func<IServiceProvider, string> connectionString)
    {
        services.AddOptions<PortalOptions>().BindConfiguration(PortalOptions.Section);
        services.TryAddSingleton(TimeProvider.System);

        // Storage: the catalog (and the profile store in it), the lake; jobs and accounts on top of the catalog.
        services.AddCatalog(postgres, connectionString);
        services.AddLake();
        services.AddJobs();
        services.AddAccounts();

        // The data path: namespaces and schemas, datasets, ingestion (its pipeline), identity and profiles.
        services.AddIdentity();
        services.AddSchemas();
        services.AddDatasets();
        services.AddIngestion();
        services.AddProfiles();

        // Reading and learning from the data.
        services.AddQueryAndExploration();
        services.AddModels();
        services.AddScoring();
        services.AddInsights();

        // Acting on the profiles: audiences and their destinations.
        services.AddAudiences();
        services.AddGuardrails();
        services.AddDemo();
        return services;
    }
}
