using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.ProfileStore;

public static class ProfileStoreServiceCollectionExtensions
{
    /// <summary>
    /// The profile store's storage layer: the per-sandbox write locks (one per process) and its options, the guardrail
    /// "identities per graph" (hard, with eviction) taken from the deployment's configuration.
    /// </summary>
    public static IServiceCollection AddProfileStore(this IServiceCollection services)
    {
        services.TryAddSingleton<ProfileStoreLocks>();
        services.TryAddScoped(sp => new ProfileStoreOptions
        {
            MaxIdentitiesPerGraph = sp.GetService<IOptions<GuardrailOptions>>()?.Value.IdentitiesPerGraph ?? new GuardrailOptions().IdentitiesPerGraph,
        });
        return services;
    }
}
