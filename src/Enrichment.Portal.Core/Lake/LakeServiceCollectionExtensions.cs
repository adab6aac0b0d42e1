using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Lake;

public static class LakeServiceCollectionExtensions
{
    /// <summary>The data lake's catalog (where datasets and batches live on disk; options <c>Enrichment:*</c>).</summary>
    public static IServiceCollection AddLake(this IServiceCollection services)
    {
        services.AddScoped<LakeCatalog>();
        return services;
    }
}
