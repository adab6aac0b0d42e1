using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Ingestion;

public static class IngestionServiceCollectionExtensions
{
    /// <summary>Batch and streaming ingestion: services, the pipeline, the <c>ingestion</c> job, the streaming flusher, the dataset deletion hook.</summary>
    public static IServiceCollection AddIngestion(this IServiceCollection services)
    {
        services.TryAddSingleton<BatchIngestor>();
        services.TryAddSingleton<StreamingBuffer>();
        services.TryAddScoped<IngestionService>();
        services.TryAddScoped<StreamingIngestion>();
        services.TryAddScoped<BatchStageRecorder>();
        services.TryAddScoped<DatasetCounts>();
        services.TryAddScoped<IngestionPipeline>();
        services.AddScoped<IDatasetDeletionHook, BatchDeletionHook>();
        services.AddPortalJob<IngestionJob>(IngestionService.JobKind, Auth.Policies.Engineer);
        services.AddKeyedScoped<IJobGiveUp, BatchGiveUp>(IngestionService.JobKind);
        services.AddJobCanceller<BatchJobCanceller>(IngestionService.JobKind);
        services.AddSingleton<StreamingFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamingFlusher>());
        return services;
    }
}
