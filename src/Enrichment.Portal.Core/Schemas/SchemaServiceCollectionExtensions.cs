using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Schemas;

public static class SchemaServiceCollectionExtensions
{
    /// <summary>Schemas, and the answer to "which schemas use this identity namespace" (options <c>Guardrails:*</c>: fields per schema).</summary>
    public static IServiceCollection AddSchemas(this IServiceCollection services)
    {
        services.AddOptions<GuardrailOptions>().BindConfiguration(GuardrailOptions.Section);
        services.TryAddScoped<SchemaService>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<Identity.INamespaceUsers, SchemaNamespaceUsers>());
        return services;
    }
}
