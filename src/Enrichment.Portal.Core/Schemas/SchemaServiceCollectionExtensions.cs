using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Schemas;

public static class SchemaServiceCollectionExtensions
{
    /// <summary>Identity namespaces, schemas, datasets and their guardrail counters (options <c>Guardrails:*</c>).</summary>
    public static IServiceCollection AddSchemasAndDatasets(this IServiceCollection services)
    {
        services.AddOptions<GuardrailOptions>().BindConfiguration(GuardrailOptions.Section);
        services.AddScoped<IdentityNamespaceService>();
        services.AddScoped<SchemaService>();
        services.AddScoped<DatasetService>();
        services.AddScoped<GuardrailUsage>();
        return services;
    }
}
