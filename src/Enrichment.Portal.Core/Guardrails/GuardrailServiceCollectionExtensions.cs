using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Guardrails;

public static class GuardrailServiceCollectionExtensions
{
    /// <summary>
    /// Guardrail readings and warnings, and ingestion latency (options <c>Guardrails:*</c>, bound by <c>AddSchemas</c> and <c>AddDatasets</c>).
    /// The batch warnings run in the pipeline's bookkeeping slot, after the profile stage whose events they read.
    /// </summary>
    public static IServiceCollection AddGuardrails(this IServiceCollection services)
    {
        services.TryAddSingleton<GuardrailCache>();
        services.TryAddScoped<GuardrailService>();
        services.TryAddScoped<LatencyService>();
        services.AddScoped<Ingestion.IBatchBookkeeping, GuardrailBatchHook>();
        return services;
    }
}
