using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Auth;

internal sealed class AppUserConfiguration : IEntityTypeConfiguration<AppUser>
{
    public void Configure(EntityTypeBuilder<AppUser> b)
    {
        b.ToTable("users");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.UserName).HasMaxLength(100);
        b.Property(x => x.DisplayName).HasMaxLength(200);
        b.HasIndex(x => x.UserName).IsUnique();
        b.HasMany(x => x.Memberships).WithOne(x => x.User).HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SandboxMembershipConfiguration : IEntityTypeConfiguration<SandboxMembership>
{
    public void Configure(EntityTypeBuilder<SandboxMembership> b)
    {
        b.ToTable("memberships");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Role).HasMaxLength(20);
        b.HasIndex(x => new { x.UserId, x.SandboxId }).IsUnique();
        b.HasOne(x => x.Sandbox).WithMany().HasForeignKey(x => x.SandboxId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> b)
    {
        b.ToTable("api_keys");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Role).HasMaxLength(20);
        b.Property(x => x.Prefix).HasMaxLength(16);
        b.Property(x => x.Hash).HasMaxLength(64);
        b.HasIndex(x => x.Hash).IsUnique();
    }
}
