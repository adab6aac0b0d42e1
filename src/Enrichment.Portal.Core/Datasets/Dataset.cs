using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Datasets;

/// <summary>A named store of records of one schema (ARCHITECTURE.md, Dataset). Change it through <see cref="DatasetService"/>.</summary>
public sealed class Dataset : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public string SchemaId { get; set; } = "";
    /// <summary>One-way: every batch also feeds the identity graph and the profile store. Needs a profile-enabled schema.</summary>
    public bool ProfileEnabled { get; set; }
    public DateTimeOffset? ProfileEnabledAt { get; set; }
    /// <summary>Made by the portal (profile snapshots, model outputs): users cannot change or delete it.</summary>
    public bool System { get; set; }
    /// <summary>Records stored by successful batches (kept up to date by ingestion).</summary>
    public long RecordCount { get; set; }
    /// <summary>Batches ingested (kept up to date by ingestion).</summary>
    public int BatchCount { get; set; }
    /// <summary>Set when a delete starts; a deleted dataset is hidden from lists and refuses new data.</summary>
    public DateTimeOffset? DeletedAt { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}

internal sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> b)
    {
        b.ToTable("datasets");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.SchemaId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.Name }).IsUnique();
        b.HasIndex(x => x.SchemaId);
        b.HasOne<Schemas.Schema>().WithMany().HasForeignKey(x => x.SchemaId).OnDelete(DeleteBehavior.Restrict);
    }
}

/// <summary>
/// Cleans up what other areas keep for a dataset (lake files, batches, profile fragments) when it is deleted.
/// Register implementations with <c>services.AddScoped&lt;IDatasetDeletionHook, X&gt;()</c>; <see cref="DatasetService.DeleteAsync"/>
/// calls every one, in the dataset's sandbox, before the catalog row is removed. Hooks must be idempotent.
/// </summary>
public interface IDatasetDeletionHook
{
    Task OnDatasetDeletingAsync(Dataset dataset, CancellationToken ct);
}
