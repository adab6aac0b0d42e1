using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>
/// Privacy delete of a person: the profile store and identity graph (<see cref="PrivacyService"/>) and every lake file of
/// the sandbox (rows with any of the person's identities in a dataset's identity columns, or its profile id in a snapshot).
/// The job's target is the profile id, so that no deleted identity value is kept in the job row or the audit log.
/// </summary>
public sealed class ProfilePrivacy(CatalogDb db, ProfileService profiles, PrivacyService privacy, LakeCatalog lake, ProfileNamespaces namespaces, JobScheduler jobs)
{
    /// <summary>Starts the privacy job for the person with that identity; null when no profile has it (404).</summary>
    public async Task<JobRun?> RequestDeleteAsync(string @namespace, string id, string? actor, CancellationToken ct = default)
    {
        var pid = await profiles.FindProfileIdAsync(@namespace, id, ct);
        if (pid is null) return null;
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "profile.privacy-delete.requested", Target = pid, Detail = $"by identity namespace {@namespace}" });
        await db.SaveChangesAsync(ct);
        return await jobs.EnqueueAsync(ProfilePrivacyJob.Kind, pid, actor, ct);
    }

    /// <summary>Deletes the profile (and everything of its person). Lake first, store second, so that a re-run after a crash finishes the work.</summary>
    /// <param name="attempt">The job run's id: names the lake rewrite's temporary files so that a re-run cleans up after a crashed attempt.</param>
    public async Task<(long LakeRows, int Files, PrivacyDeleteResult? Store)> DeleteProfileAsync(string profileId, string? actor, CancellationToken ct = default, string? attempt = null)
    {
        var sandbox = db.Sandbox.Require();
        var pid = await profiles.ResolveAsync(profileId, ct);
        if (pid is null) return (0, 0, null);
        var graph = await profiles.GetGraphAsync(pid, ct);
        var identities = graph.Nodes.Concat(graph.Evicted).Select(n => new ProfileIdentityView(n.Namespace, n.Id)).ToList();
        var aliases = await db.Set<ProfileAlias>().AsNoTracking().Where(a => a.ProfileId == pid).Select(a => a.AliasId).ToListAsync(ct);
        var (rows, files) = await RemoveFromLakeAsync(identities, [pid, .. aliases], attempt, ct);

        PrivacyDeleteResult? store = null;
        if (identities.Count > 0)
            store = await privacy.DeleteAsync(sandbox, identities[0].Namespace, identities[0].Id, ct);
        if (store is not null)
        {
            var extra = store.Identities.Except(identities).ToList();
            if (extra.Count > 0)
            {
                var (r2, f2) = await RemoveFromLakeAsync(extra, [], attempt, ct);
                rows += r2; files += f2;
            }
        }
        db.Add(new AuditEntry
        {
            Actor = actor ?? "system", Action = "profile.privacy-delete", Target = pid,
            Detail = $"{store?.Identities.Count ?? identities.Count} identities, {store?.Fragments ?? 0} fragments, {store?.Events ?? 0} events, {rows} lake rows in {files} files removed",
        });
        await db.SaveChangesAsync(ct);
        return (rows, files, store);
    }

    private async Task<(long Rows, int Files)> RemoveFromLakeAsync(IReadOnlyList<ProfileIdentityView> identities, IReadOnlyCollection<string> profileIds, string? attempt, CancellationToken ct)
    {
        long rows = 0;
        var files = 0;
        foreach (var dataset in await lake.ListAsync(ct))
        {
            var columns = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
            var normalizers = new Dictionary<string, NormalizerKind>(StringComparer.Ordinal);
            foreach (var field in dataset.Schema.IdentityFields)
            {
                var info = BuiltInNamespaces.Resolve(namespaces.Lookup, field.Identity!.Namespace);
                var values = identities.Where(i => string.Equals(i.Namespace, info.Code, StringComparison.OrdinalIgnoreCase)).Select(i => i.Id).ToList();
                if (values.Count == 0) continue;
                columns[field.Path] = values;
                normalizers[field.Path] = info.Normalizer;
            }
            if (profileIds.Count > 0 && dataset.Schema.Find("profileId") is not null) columns["profileId"] = profileIds;
            if (columns.Count == 0) continue;
            var dataFiles = LakeCatalog.AllDataFiles(dataset); // every kept snapshot too
            if (dataFiles.Count == 0) continue;
            rows += await LakeRowRemover.RemoveRowsAsync(dataFiles, columns, normalizers, ct, attempt);
            files += dataFiles.Count;
        }
        return (rows, files);
    }
}

/// <summary>Job kind <c>profile-privacy-delete</c>: target is the profile id.</summary>
public sealed class ProfilePrivacyJob(ProfilePrivacy privacy, JobProgress progress, CatalogDb db) : IPortalJob
{
    public const string Kind = "profile-privacy-delete";

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var actor = progress.JobRunId is { } runId
            ? await db.Set<JobRun>().AsNoTracking().Where(r => r.Id == runId).Select(r => r.CreatedBy).FirstOrDefaultAsync(ct)
            : null;
        var (rows, files, store) = await privacy.DeleteProfileAsync(targetId, actor, ct, progress.JobRunId);
        await progress.ReportAsync(1, store is null && rows == 0 ? "Nothing left to delete" : $"Deleted; {rows} lake rows removed from {files} files", force: true, ct: ct);
    }
}
