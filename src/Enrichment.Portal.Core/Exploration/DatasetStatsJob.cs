using Enrichment.Portal.Core.Jobs;

namespace Enrichment.Portal.Core.Exploration;

/// <summary>Computes the statistics of a large dataset in the background; the target id is a <see cref="DatasetStatsCacheEntry"/>.</summary>
public sealed class DatasetStatsJob(ExplorationService exploration, JobProgress progress) : IPortalJob
{
    public const string Kind = "dataset-stats";

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        await progress.ReportAsync(0, "reading the dataset", force: true, ct: ct);
        var report = progress.AsProgress(ct);
        await exploration.RunEntryAsync(targetId, new Progress<double>(f => report.Report((f, $"{f:P0} of the columns"))), ct);
        await progress.ReportAsync(1, "done", force: true, ct: ct);
    }
}
