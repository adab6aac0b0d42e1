using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Guardrails;

public static class GuardrailServiceCollectionExtensions
{
    /// <summary>
    /// Guardrail readings and warnings, and ingestion latency (options <c>Guardrails:*</c>, bound by <c>AddSchemas</c> and <c>AddDatasets</c>).
    /// Register after the profile area: the batch hook's warnings read the events the profile stage wrote.
    /// </summary>
    public static IServiceCollection AddGuardrails(this IServiceCollection services)
    {
        services.TryAddSingleton<GuardrailCache>();
        services.TryAddScoped<GuardrailService>();
        services.TryAddScoped<LatencyService>();
        services.AddScoped<Ingestion.IBatchCommittedHook, GuardrailBatchHook>();
        return services;
    }
}
