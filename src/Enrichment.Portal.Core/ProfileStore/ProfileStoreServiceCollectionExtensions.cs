using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.ProfileStore;

public static class ProfileStoreServiceCollectionExtensions
{
    /// <summary>
    /// The profile store's storage layer: the per-sandbox write locks (one per process) and its options, the guardrail
    /// "identities per graph" (hard, with eviction) taken from the deployment's configuration, and the records per
    /// transaction (<c>ProfileStore:ChunkSize</c>, default 10,000).
    /// </summary>
    public static IServiceCollection AddProfileStore(this IServiceCollection services)
    {
        services.TryAddSingleton<ProfileStoreLocks>();
        services.TryAddScoped(sp => new ProfileStoreOptions
        {
            MaxIdentitiesPerGraph = sp.GetService<IOptions<GuardrailOptions>>()?.Value.IdentitiesPerGraph ?? new GuardrailOptions().IdentitiesPerGraph,
            ChunkSize = sp.GetService<IConfiguration>()?.GetValue<int?>("ProfileStore:ChunkSize") is int n and > 0 ? n : new ProfileStoreOptions().ChunkSize,
        });
        return services;
    }
}
