using Enrichment.Portal.Core.ProfileStore;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>What the identity and profile stages did for one committed batch (null <see cref="Result"/>: skipped).</summary>
public sealed record ProfileStageResult(string DatasetId, string BatchId, bool Skipped, string? SkipReason, ProfileIngestResult? Result)
{
    public TimeSpan IdentityStage => Result?.IdentityStage ?? TimeSpan.Zero;
    public TimeSpan ProfileStage => Result?.ProfileStage ?? TimeSpan.Zero;
}

/// <summary>
/// Namespace lookup of the current sandbox (built-ins, then custom namespaces) as the synchronous function the profile
/// library takes. Scoped; the custom namespaces are read once per scope.
/// </summary>
public sealed class ProfileNamespaces(CatalogDb db)
{
    private Dictionary<string, NamespaceInfo>? _custom;

    public NamespaceInfo? Find(string code)
    {
        if (BuiltInNamespaces.Find(code) is { } b) return b;
        _custom ??= db.Set<IdentityNamespace>().AsNoTracking().ToList()
            .GroupBy(n => n.Code, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().ToInfo(), StringComparer.OrdinalIgnoreCase);
        return _custom.GetValueOrDefault(code);
    }

    public Func<string, NamespaceInfo?> Lookup => Find;
}

/// <summary>
/// The identity and profile stages of ingestion: applies one committed lake batch of a profile-enabled dataset to the
/// identity graph and profile store. Idempotent (a re-run adds no fragments or events). Works in the current sandbox.
/// </summary>
public sealed class ProfileStage(LakeCatalog lake, ProfileNamespaces namespaces, ProfileIngestor ingestor, TimeProvider clock)
{
    public async Task<ProfileStageResult> ApplyCommittedBatchAsync(string datasetId, string batchId, CancellationToken ct = default) =>
        await ApplyCommittedBatchAsync(datasetId, batchId, null, ct);

    public async Task<ProfileStageResult> ApplyCommittedBatchAsync(string datasetId, string batchId, IProgress<ProfileIngestProgress>? progress, CancellationToken ct = default)
    {
        var dataset = await lake.FindAsync(datasetId, ct) ?? throw CatalogException.NotFound($"No dataset {datasetId} in this sandbox.");
        if (!dataset.ProfileEnabled) return new(datasetId, batchId, true, "The dataset is not enabled for profile.", null);
        if (dataset.Schema.PrimaryIdentity is null && !dataset.Schema.IdentityFields.Any())
            return new(datasetId, batchId, true, "The dataset's schema has no identity fields.", null);
        var folder = lake.BatchFolder(dataset.SandboxId, dataset.Id, batchId);
        if (!LakeFolders.IsComplete(folder)) return new(datasetId, batchId, true, "The batch is not committed in the lake.", null);
        var files = Directory.EnumerateFiles(folder, "part-*.parquet").OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0) return new(datasetId, batchId, true, "The batch has no data files.", null);
        var batchTime = new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(folder, LakeFolders.SuccessMarker)), TimeSpan.Zero);
        if (batchTime.Year < 2000) batchTime = clock.GetUtcNow();
        var batch = new ProfileBatch(dataset.SandboxId, dataset.Id, batchId, dataset.Schema, files, batchTime) { Namespaces = namespaces.Lookup };
        var result = await ingestor.ApplyBatchAsync(batch, progress, ct);
        return new(datasetId, batchId, false, null, result);
    }

    /// <summary>Committed batch ids of a dataset, oldest first (folder order).</summary>
    public static IReadOnlyList<string> CommittedBatches(LakeDataset dataset) =>
        !Directory.Exists(dataset.Folder) ? [] :
        Directory.EnumerateDirectories(dataset.Folder)
            .Where(b => !Path.GetFileName(b).StartsWith('_') && LakeFolders.IsComplete(b))
            .Select(Path.GetFileName).OfType<string>().OrderBy(b => b, StringComparer.Ordinal).ToList();
}

/// <summary>Job kind <c>profile-batch</c>: target <c>datasetId/batchId</c>.</summary>
public sealed class ProfileBatchJob(ProfileStage stage, JobProgress progress) : IPortalJob
{
    public const string Kind = "profile-batch";

    public static string Target(string datasetId, string batchId) => datasetId + "/" + batchId;

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var parts = targetId.Split('/');
        if (parts.Length != 2) throw new JobFailedException($"Not a profile batch target: '{targetId}' (datasetId/batchId).");
        await progress.ReportAsync(0, "identity and profile stages", force: true, ct: ct);
        ProfileStageResult r;
        try { r = await stage.ApplyCommittedBatchAsync(parts[0], parts[1], ct); }
        catch (CatalogException e) { throw new JobFailedException(e.Message); }
        var text = r.Skipped ? "Skipped: " + r.SkipReason
            : $"{r.Result!.Records} records, {r.Result.ProfilesCreated} profiles created, {r.Result.ProfilesUpdated} updated, {r.Result.Events} events (identity {r.IdentityStage.TotalMilliseconds:0} ms, profile {r.ProfileStage.TotalMilliseconds:0} ms)";
        await progress.ReportAsync(1, text, force: true, ct: ct);
    }
}

public static class ProfileServiceCollectionExtensions
{
    /// <summary>The profile store services, stage and jobs (profile-batch, profile-privacy-delete, profile-snapshot), and the daily snapshot's registration at start.</summary>
    public static IServiceCollection AddProfiles(this IServiceCollection services)
    {
        services.AddProfileStore();
        services.AddScoped<ProfileNamespaces>();
        services.AddScoped<ProfileIngestor>(sp => new(sp.GetRequiredService<CatalogDb>(), sp.GetRequiredService<IdentityStitcher>(),
            sp.GetRequiredService<ProfileStoreOptions>(), sp.GetRequiredService<ProfileStoreLocks>()));
        services.AddScoped<ProfileStage>();
        services.AddScoped(sp => new ProfileService(sp.GetRequiredService<CatalogDb>(), sp.GetRequiredService<ProfileNamespaces>().Lookup));
        services.AddScoped(sp => new PrivacyService(sp.GetRequiredService<CatalogDb>(), sp.GetRequiredService<ProfileNamespaces>().Lookup, sp.GetRequiredService<ProfileStoreLocks>()));
        services.AddScoped<MergePolicyService>();
        services.AddScoped<ProfileSnapshotWriter>();
        services.AddScoped<ProfilePrivacy>();
        services.AddScoped<ProfileSnapshots>();
        services.AddScoped<ProfileSnapshotScheduler>();
        services.AddScoped<Datasets.IDatasetDeletionHook, ProfileDatasetDeletionHook>();
        services.AddScoped<Ingestion.IIdentityAndProfileStage, IdentityAndProfileStage>();
        services.AddPortalJob<ProfileBatchJob>(ProfileBatchJob.Kind, Auth.Policies.Engineer);
        services.AddPortalJob<ProfilePrivacyJob>(ProfilePrivacyJob.Kind, Auth.Policies.Engineer);
        services.AddPortalJob<ProfileSnapshotJob>(ProfileSnapshotJob.Kind, Auth.Policies.Engineer);
        services.AddScoped<IStartupTask, ProfileSnapshotStartup>();
        return services;
    }
}

/// <summary>Removes a deleted dataset's profile fragments and events, then re-merges the sandbox's profiles without them.
/// The identity graph keeps the links the dataset made (identities are not attributed to one dataset).</summary>
public sealed class ProfileDatasetDeletionHook(CatalogDb db, ProfileIngestor ingestor) : Datasets.IDatasetDeletionHook
{
    public async Task OnDatasetDeletingAsync(Datasets.Dataset dataset, CancellationToken ct)
    {
        var s = dataset.SandboxId;
        var fragments = await db.Set<ProfileFragment>().IgnoreQueryFilters().Where(f => f.SandboxId == s && f.DatasetId == dataset.Id).ExecuteDeleteAsync(ct);
        await db.Set<ProfileEvent>().IgnoreQueryFilters().Where(e => e.SandboxId == s && e.DatasetId == dataset.Id).ExecuteDeleteAsync(ct);
        if (fragments > 0) await ingestor.RematerializeAsync(s, ct);
    }
}
