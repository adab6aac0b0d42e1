using System.Text;
using System.Text.Json;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>One identity (namespace code + normalized value) of the identity graph and the profile it belongs to.</summary>
public sealed class ProfileIdentity : ISandboxScoped
{
    public string SandboxId { get; set; } = "";
    /// <summary>Namespace code, as the namespace defines it (e.g. <c>Email</c>).</summary>
    public string Namespace { get; set; } = "";
    /// <summary>The normalized value.</summary>
    public string Value { get; set; } = "";
    public string ProfileId { get; set; } = "";
    /// <summary>Time of the first record that carried the identity (eviction goes oldest first).</summary>
    public DateTimeOffset FirstSeen { get; set; }
}

/// <summary>A unified profile (a connected component of the identity graph) with its materialized merged attributes (default merge policy).</summary>
public sealed class Profile : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int IdentityCount { get; set; }
    /// <summary>True once the graph reached the identity limit and identities were evicted.</summary>
    public bool HitLimit { get; set; }
    /// <summary>Merged attributes by the default policy, as a flat JSON object keyed by dotted path (map entries as <c>path.key</c>).</summary>
    public string Attributes { get; set; } = "{}";
    /// <summary>Flat JSON object: dotted path -> dataset id the value came from.</summary>
    public string Provenance { get; set; } = "{}";
}

/// <summary>A profile id that was merged into another one; lookups by the old id resolve to <see cref="ProfileId"/>.</summary>
public sealed class ProfileAlias : ISandboxScoped
{
    public string AliasId { get; set; } = "";
    public string SandboxId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public DateTimeOffset MergedAt { get; set; }
}

/// <summary>An edge of the identity graph: two identities seen in the same record.</summary>
public sealed class ProfileLink : ISandboxScoped
{
    public string SandboxId { get; set; } = "";
    public string FromNamespace { get; set; } = "";
    public string FromValue { get; set; } = "";
    public string ToNamespace { get; set; } = "";
    public string ToValue { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    public string BatchId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The attributes one dataset holds for one identity-of-record (the primary identity of the record).</summary>
public sealed class ProfileFragment : ISandboxScoped
{
    public string SandboxId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    /// <summary><c>namespace</c> + U+001F + value of the identity the record is keyed by.</summary>
    public string RecordKey { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string BatchId { get; set; } = "";
    public DateTimeOffset WrittenAt { get; set; }
    /// <summary>Flat JSON object keyed by dotted path.</summary>
    public string Attributes { get; set; } = "{}";
}

/// <summary>An event of an event dataset, indexed by profile.</summary>
public sealed class ProfileEvent : ISandboxScoped
{
    public long Id { get; set; }
    public string SandboxId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    /// <summary>Batch id, with <see cref="RowNumber"/> the idempotency key (streamed records: a content hash).</summary>
    public string BatchId { get; set; } = "";
    public long RowNumber { get; set; }
    public DateTimeOffset Timestamp { get; set; }
    public string EventType { get; set; } = "";
    /// <summary>Flat JSON object of the event's fields keyed by dotted path.</summary>
    public string Fields { get; set; } = "{}";
}

/// <summary>An identity removed from a graph because the graph exceeded its identity limit.</summary>
public sealed class IdentityEviction : ISandboxScoped
{
    public long Id { get; set; }
    public string SandboxId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Value { get; set; } = "";
    public DateTimeOffset FirstSeen { get; set; }
    public DateTimeOffset EvictedAt { get; set; }
}

/// <summary>How fragments become one profile.</summary>
public static class MergeMethods
{
    /// <summary>Newest value per attribute wins.</summary>
    public const string Timestamp = "timestamp";
    /// <summary>Values of the datasets earlier in <see cref="MergePolicy.DatasetOrder"/> win.</summary>
    public const string DatasetPrecedence = "dataset-precedence";

    public static bool IsValid(string method) => method is Timestamp or DatasetPrecedence;
}

/// <summary>A merge policy of a sandbox. Exactly one is the default; its merge is materialized on the profiles.</summary>
public sealed class MergePolicy : ISandboxScoped
{
    public const string DefaultName = "Default Timeout-based";

    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Method { get; set; } = MergeMethods.Timestamp;
    public List<string> DatasetOrder { get; set; } = [];
    public bool IsDefault { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

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
