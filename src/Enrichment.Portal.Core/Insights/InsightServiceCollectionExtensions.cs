using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Insights;

public static class InsightServiceCollectionExtensions
{
    /// <summary>Bring-your-own-scores imports and the insight queries of pages.</summary>
    public static IServiceCollection AddInsights(this IServiceCollection services)
    {
        services.AddScoped<InsightImportService>();
        services.AddScoped<InsightQueries>();
        return services;
    }
}
