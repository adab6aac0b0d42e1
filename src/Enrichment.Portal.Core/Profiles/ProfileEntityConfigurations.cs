using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Profiles;

// EF Core mappings of the profile store: snake-case tables and columns so that its raw SQL is the same on SQLite and PostgreSQL.

internal static class ProfileModel
{
    /// <summary>Snake-case column names so that the raw SQL of the profile store is the same on SQLite and PostgreSQL.</summary>
    public static void SnakeCase<T>(EntityTypeBuilder<T> b) where T : class
    {
        foreach (var p in b.Metadata.GetDeclaredProperties())
            p.SetColumnName(ToSnake(p.Name));
    }

    public static string ToSnake(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}

internal sealed class ProfileIdentityConfiguration : IEntityTypeConfiguration<ProfileIdentity>
{
    public void Configure(EntityTypeBuilder<ProfileIdentity> b)
    {
        b.ToTable("profile_identities");
        b.HasKey(x => new { x.SandboxId, x.Namespace, x.Value });
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.Namespace).HasMaxLength(64);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.ProfileId });
        ProfileModel.SnakeCase(b);
    }
}

internal sealed class ProfileConfiguration : IEntityTypeConfiguration<Profile>
{
    public void Configure(EntityTypeBuilder<Profile> b)
    {
        b.ToTable("profiles");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        // Keyset pages and IN lookups by (sandbox, id): without it SQLite's planner picks the sandbox-only index.
        b.HasIndex(x => new { x.SandboxId, x.Id });
        b.HasIndex(x => new { x.SandboxId, x.HitLimit });
        // Guardrail "identities per graph": the largest graph is the last entry of this index.
        b.HasIndex(x => new { x.SandboxId, x.IdentityCount });
        ProfileModel.SnakeCase(b);
    }
}

internal sealed class ProfileAliasConfiguration : IEntityTypeConfiguration<ProfileAlias>
{
    public void Configure(EntityTypeBuilder<ProfileAlias> b)
    {
        b.ToTable("profile_aliases");
        b.HasKey(x => x.AliasId);
        b.Property(x => x.AliasId).HasMaxLength(32);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.ProfileId });
        ProfileModel.SnakeCase(b);
    }
}

internal sealed class ProfileLinkConfiguration : IEntityTypeConfiguration<ProfileLink>
{
    public void Configure(EntityTypeBuilder<ProfileLink> b)
    {
        b.ToTable("profile_links");
        b.HasKey(x => new { x.SandboxId, x.FromNamespace, x.FromValue, x.ToNamespace, x.ToValue });
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.ProfileId });
        ProfileModel.SnakeCase(b);
    }
}

internal sealed class ProfileFragmentConfiguration : IEntityTypeConfiguration<ProfileFragment>
{
    public void Configure(EntityTypeBuilder<ProfileFragment> b)
    {
        b.ToTable("profile_fragments");
        b.HasKey(x => new { x.SandboxId, x.DatasetId, x.RecordKey });
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.DatasetId).HasMaxLength(32);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.ProfileId, x.DatasetId }); // profile -> fragments, and one dataset's fragments of a profile (the profile stage's patch) without reading the others
        b.HasIndex(x => new { x.SandboxId, x.BatchId }); // the profiles a batch touched (the audiences stage)
        ProfileModel.SnakeCase(b);
    }
}

internal sealed class ProfileEventConfiguration : IEntityTypeConfiguration<ProfileEvent>
{
    public void Configure(EntityTypeBuilder<ProfileEvent> b)
    {
        b.ToTable("profile_events");
        b.HasKey(x => x.Id);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.DatasetId).HasMaxLength(32);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.DatasetId, x.BatchId, x.RowNumber }).IsUnique();
        b.HasIndex(x => new { x.SandboxId, x.ProfileId, x.Timestamp });
        ProfileModel.SnakeCase(b);
    }
}

internal sealed class IdentityEvictionConfiguration : IEntityTypeConfiguration<IdentityEviction>
{
    public void Configure(EntityTypeBuilder<IdentityEviction> b)
    {
        b.ToTable("profile_evictions");
        b.HasKey(x => x.Id);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.ProfileId });
        ProfileModel.SnakeCase(b);
    }
}

internal sealed class MergePolicyConfiguration : IEntityTypeConfiguration<MergePolicy>
{
    public void Configure(EntityTypeBuilder<MergePolicy> b)
    {
        b.ToTable("merge_policies");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Method).HasMaxLength(32);
        b.Property(x => x.DatasetOrder).HasConversion(
            v => JsonSerializer.Serialize(v, (JsonSerializerOptions?)null),
            v => JsonSerializer.Deserialize<List<string>>(v, (JsonSerializerOptions?)null) ?? new List<string>(),
            new ValueComparer<List<string>>((a, c) => a!.SequenceEqual(c!), v => v.Aggregate(0, (h, s) => HashCode.Combine(h, s)), v => v.ToList()));
        b.HasIndex(x => new { x.SandboxId, x.Name }).IsUnique();
        ProfileModel.SnakeCase(b);
    }
}
