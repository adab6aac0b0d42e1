using Enrichment.Portal.Core.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Models;

public static class ModelServiceCollectionExtensions
{
    /// <summary>Models, training runs and the version registry; the <c>training</c> job kind.</summary>
    public static IServiceCollection AddModels(this IServiceCollection services)
    {
        services.AddScoped<ModelService>();
        services.AddScoped<OnnxVersionService>();
        services.AddOptions<OnnxOptions>().BindConfiguration(OnnxOptions.Section);
        services.AddPortalJob<TrainingJob>(ModelService.JobKind, Auth.Policies.Scientist);
        services.AddKeyedScoped<IJobGiveUp, TrainingGiveUp>(ModelService.JobKind);
        return services;
    }
}
