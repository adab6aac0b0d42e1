using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Datasets;

public static class DatasetServiceCollectionExtensions
{
    /// <summary>Datasets and their guardrail counters (options <c>Guardrails:*</c>).</summary>
    public static IServiceCollection AddDatasets(this IServiceCollection services)
    {
        services.AddOptions<GuardrailOptions>().BindConfiguration(GuardrailOptions.Section);
        services.TryAddScoped<DatasetService>();
        services.TryAddScoped<GuardrailUsage>();
        return services;
    }
}
