using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Sandboxes;

internal sealed class SandboxConfiguration : IEntityTypeConfiguration<Sandbox>
{
    public void Configure(EntityTypeBuilder<Sandbox> b)
    {
        b.ToTable("sandboxes");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(64);
        b.Property(x => x.Title).HasMaxLength(200);
        b.HasIndex(x => x.Name).IsUnique();
    }
}
