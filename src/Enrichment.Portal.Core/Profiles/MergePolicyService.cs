using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>Merge policies of a sandbox: exactly one default, created on demand as "Default Timeout-based" (timestamp).</summary>
public sealed class MergePolicyService(CatalogDb db)
{
    /// <summary>Every policy of the sandbox (the default created when missing).</summary>
    public async Task<IReadOnlyList<MergePolicy>> ListAsync(string sandboxId, CancellationToken ct = default)
    {
        await GetDefaultAsync(sandboxId, ct);
        return await Query(sandboxId).OrderByDescending(p => p.IsDefault).ThenBy(p => p.Name).ToListAsync(ct);
    }

    public Task<MergePolicy?> FindAsync(string sandboxId, string id, CancellationToken ct = default) =>
        Query(sandboxId).FirstOrDefaultAsync(p => p.Id == id, ct);

    /// <summary>The default policy of the sandbox, created when the sandbox has none.</summary>
    public async Task<MergePolicy> GetDefaultAsync(string sandboxId, CancellationToken ct = default)
    {
        var found = await Query(sandboxId).Where(p => p.IsDefault).OrderBy(p => p.CreatedAt).FirstOrDefaultAsync(ct);
        if (found is not null) return found;
        var existing = await Query(sandboxId).FirstOrDefaultAsync(p => p.Name == MergePolicy.DefaultName, ct);
        if (existing is not null)
        {
            existing.IsDefault = true;
            await db.SaveChangesAsync(ct);
            return existing;
        }
        var policy = new MergePolicy { SandboxId = sandboxId, Name = MergePolicy.DefaultName, Method = MergeMethods.Timestamp, IsDefault = true };
        db.Set<MergePolicy>().Add(policy);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (CatalogLock.IsUniqueViolation(e))
        {
            // Another ingestion of the sandbox created it first (unique sandbox + name): use that one.
            db.Entry(policy).State = EntityState.Detached;
            return await Query(sandboxId).Where(p => p.IsDefault).OrderBy(p => p.CreatedAt).FirstOrDefaultAsync(ct)
                ?? await Query(sandboxId).FirstAsync(p => p.Name == MergePolicy.DefaultName, ct);
        }
        return policy;
    }

    /// <summary>Creates a policy; when <paramref name="isDefault"/> it replaces the current default. Changing the default
    /// changes the materialized merge: call <see cref="ProfileIngestor.RematerializeAsync"/> afterwards.</summary>
    public async Task<MergePolicy> CreateAsync(string sandboxId, string name, string method, IReadOnlyList<string>? datasetOrder, bool isDefault, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A merge policy needs a name.", nameof(name));
        if (!MergeMethods.IsValid(method)) throw new ArgumentException($"Unknown merge method '{method}' (timestamp | dataset-precedence).", nameof(method));
        if (method == MergeMethods.DatasetPrecedence && (datasetOrder is null || datasetOrder.Count == 0))
            throw new ArgumentException("A dataset-precedence policy needs an ordered list of datasets.", nameof(datasetOrder));
        if (await Query(sandboxId).AnyAsync(p => p.Name == name, ct))
            throw new InvalidOperationException($"A merge policy named '{name}' exists already.");
        await GetDefaultAsync(sandboxId, ct);
        if (isDefault)
            foreach (var p in await Query(sandboxId).Where(p => p.IsDefault).ToListAsync(ct)) p.IsDefault = false;
        var policy = new MergePolicy { SandboxId = sandboxId, Name = name.Trim(), Method = method, DatasetOrder = datasetOrder?.ToList() ?? [], IsDefault = isDefault };
        db.Set<MergePolicy>().Add(policy);
        await db.SaveChangesAsync(ct);
        return policy;
    }

    /// <summary>Makes <paramref name="id"/> the one default of the sandbox.</summary>
    public async Task SetDefaultAsync(string sandboxId, string id, CancellationToken ct = default)
    {
        var all = await Query(sandboxId).ToListAsync(ct);
        if (all.All(p => p.Id != id)) throw new KeyNotFoundException($"Merge policy {id} not found.");
        foreach (var p in all) p.IsDefault = p.Id == id;
        await db.SaveChangesAsync(ct);
    }

    private IQueryable<MergePolicy> Query(string sandboxId) =>
        db.Set<MergePolicy>().IgnoreQueryFilters().Where(p => p.SandboxId == sandboxId);
}
