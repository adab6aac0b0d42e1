using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Datasets;

/// <summary>
/// Datasets of the current sandbox, for pages, endpoints and jobs. Refusals are <see cref="CatalogException"/>s.
/// System datasets (profile snapshots, model outputs) are made with <see cref="CreateSystemAsync"/> by the portal itself;
/// users cannot enable, change or delete them.
/// </summary>
public sealed class DatasetService(CatalogDb db, IEnumerable<IDatasetDeletionHook> deletionHooks)
{
    /// <summary>Datasets that are not being deleted.</summary>
    public IQueryable<Dataset> Query() => db.Set<Dataset>().AsNoTracking().Where(d => d.DeletedAt == null);

    public Task<Dataset?> FindAsync(string id, CancellationToken ct = default) => Query().FirstOrDefaultAsync(d => d.Id == id, ct);

    public async Task<Dataset> GetAsync(string id, CancellationToken ct = default) =>
        await FindAsync(id, ct) ?? throw CatalogException.NotFound($"No dataset {id} in this sandbox.");

    public Task<Dataset> CreateAsync(string? name, string? schemaId, string? description = null, string? actor = null, CancellationToken ct = default) =>
        CreateCoreAsync(name, schemaId, description, system: false, actor, ct);

    /// <summary>A dataset the portal owns (a profile snapshot, a model's output); users cannot change or delete it.</summary>
    public Task<Dataset> CreateSystemAsync(string name, string schemaId, string? description = null, CancellationToken ct = default) =>
        CreateCoreAsync(name, schemaId, description, system: true, "system", ct);

    /// <summary>Enables the dataset for profile (one-way; again is a no-op). 422 unless its schema is enabled for profile.</summary>
    public async Task<Dataset> EnableProfileAsync(string id, string? actor = null, bool asSystem = false, CancellationToken ct = default)
    {
        var ds = await TrackedAsync(id, ct);
        if (ds.ProfileEnabled) return ds;
        if (ds.System && !asSystem)
            throw CatalogException.Conflict($"'{ds.Name}' is a system dataset; the portal manages it and it cannot be changed by users.");
        var schema = await db.Set<Schema>().AsNoTracking().FirstAsync(s => s.Id == ds.SchemaId, ct);
        if (!schema.ProfileEnabled)
            throw CatalogException.Rule($"The schema '{schema.Name}' of this dataset is not enabled for profile; enable the schema first (it needs a primary identity).",
                new Dictionary<string, string[]> { ["schemaId"] = [$"The schema '{schema.Name}' is not enabled for profile."] });
        ds.ProfileEnabled = true;
        ds.ProfileEnabledAt = ds.UpdatedAt = DateTimeOffset.UtcNow;
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "dataset.enable-profile", Target = ds.Id, Detail = ds.Name });
        await db.SaveChangesAsync(ct);
        return ds;
    }

    public async Task<Dataset> UpdateDescriptionAsync(string id, string? description, string? actor = null, CancellationToken ct = default)
    {
        var ds = await TrackedAsync(id, ct);
        RefuseSystem(ds, "changed");
        ds.Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        ds.UpdatedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(ct);
        return ds;
    }

    /// <summary>
    /// Deletes a dataset: marks it deleted (hidden, refuses data), lets every <see cref="IDatasetDeletionHook"/> remove what its
    /// area keeps (lake files, batches, profile fragments), then removes the catalog row. System datasets: 409.
    /// </summary>
    public async Task DeleteAsync(string id, string? actor = null, CancellationToken ct = default)
    {
        var ds = await TrackedAsync(id, ct);
        RefuseSystem(ds, "deleted");
        ds.DeletedAt = DateTimeOffset.UtcNow;
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "dataset.delete", Target = ds.Id, Detail = ds.Name });
        await db.SaveChangesAsync(ct);
        foreach (var hook in deletionHooks)
            await hook.OnDatasetDeletingAsync(ds, ct);
        db.Remove(ds);
        await db.SaveChangesAsync(ct);
    }

    private async Task<Dataset> CreateCoreAsync(string? name, string? schemaId, string? description, bool system, string? actor, CancellationToken ct)
    {
        name = name?.Trim();
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(name) || name.Length > 200) errors["name"] = ["A dataset needs a name of at most 200 characters."];
        if (string.IsNullOrWhiteSpace(schemaId)) errors["schemaId"] = ["A dataset needs the id of its schema."];
        if (errors.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", errors.SelectMany(e => e.Value)), errors);
        if (!await db.Set<Schema>().AnyAsync(s => s.Id == schemaId, ct))
            throw CatalogException.Invalid("schemaId", $"No schema {schemaId} in this sandbox.");
        var lower = name!.ToLowerInvariant();
        if (await db.Set<Dataset>().AnyAsync(d => d.Name.ToLower() == lower, ct))
            throw CatalogException.Conflict($"A dataset named '{name}' already exists in this sandbox.");
        var ds = new Dataset { Name = name, SchemaId = schemaId!, System = system, CreatedBy = actor,
            Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim() };
        db.Add(ds);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "dataset.create", Target = ds.Id, Detail = name });
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException) { throw CatalogException.Conflict($"A dataset named '{name}' already exists in this sandbox."); }
        return ds;
    }

    private async Task<Dataset> TrackedAsync(string id, CancellationToken ct) =>
        await db.Set<Dataset>().FirstOrDefaultAsync(d => d.Id == id && d.DeletedAt == null, ct)
        ?? throw CatalogException.NotFound($"No dataset {id} in this sandbox.");

    private static void RefuseSystem(Dataset ds, string verb)
    {
        if (ds.System)
            throw CatalogException.Conflict($"'{ds.Name}' is a system dataset; the portal manages it and it cannot be {verb} by users.");
    }
}
