using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Identity;

/// <summary>A custom identity namespace of one sandbox. The built-ins (<see cref="BuiltInNamespaces"/>) are not stored.</summary>
public sealed class IdentityNamespace : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    /// <summary>The code used in schemas and the API (<c>LoyaltyID</c>); unique per sandbox, case-insensitively, built-ins included.</summary>
    public string Code { get; set; } = "";
    public string Name { get; set; } = "";
    public IdentityType Type { get; set; } = IdentityType.CrossDevice;
    /// <summary>How stitching normalizes its values (the ingestion area's IdentityNormalizer reads it).</summary>
    public NormalizerKind Normalizer { get; set; } = NormalizerKind.Id;
    public string? Description { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public NamespaceInfo ToInfo() => new(Code, Name, Type, Normalizer, BuiltIn: false);
}

internal sealed class IdentityNamespaceConfiguration : IEntityTypeConfiguration<IdentityNamespace>
{
    public void Configure(EntityTypeBuilder<IdentityNamespace> b)
    {
        b.ToTable("identity_namespaces");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Code).HasMaxLength(64);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Type).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.Normalizer).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.Description).HasMaxLength(2000);
        b.HasIndex(x => new { x.SandboxId, x.Code }).IsUnique();
    }
}
