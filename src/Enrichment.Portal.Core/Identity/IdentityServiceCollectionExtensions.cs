using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Identity;

public static class IdentityServiceCollectionExtensions
{
    /// <summary>Identity namespaces (built-in and custom) and the stitcher of the identity graph.</summary>
    public static IServiceCollection AddIdentity(this IServiceCollection services)
    {
        services.TryAddScoped<IdentityNamespaceService>();
        services.TryAddScoped<IdentityStitcher>();
        return services;
    }
}
