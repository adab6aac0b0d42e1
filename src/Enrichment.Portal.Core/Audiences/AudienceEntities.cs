using System.Text.Json;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Audiences;

public static class AudienceStatus
{
    public const string New = "new";
    public const string Evaluating = "evaluating";
    public const string Ready = "ready";
    public const string Failed = "failed";
}

/// <summary>An audience (API: segment): a rule over the profiles of a sandbox and its current members.</summary>
public sealed class Audience : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    /// <summary>The rule as JSON (AudienceRule.cs).</summary>
    public string RuleJson { get; set; } = "{}";
    /// <summary>The merge policy whose view of the profile the rule reads; null: the sandbox's default (the materialized merge).</summary>
    public string? MergePolicyId { get; set; }
    public string Status { get; set; } = AudienceStatus.New;
    public long Size { get; set; }
    public DateTimeOffset? EvaluatedAt { get; set; }
    public string? LastJobRunId { get; set; }
    public string? Error { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>A current member of an audience, since when.</summary>
public sealed class AudienceMember : ISandboxScoped
{
    public string SandboxId { get; set; } = "";
    public string AudienceId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public DateTimeOffset Since { get; set; }
}

/// <summary>
/// A membership change (a profile entered or exited an audience), in commit order: the history of an audience and the
/// outbox destinations read from (each destination keeps the last change id it delivered).
/// </summary>
public sealed class AudienceChange : ISandboxScoped
{
    public long Id { get; set; }
    public string SandboxId { get; set; } = "";
    public string AudienceId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public bool Entered { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>The size of an audience after an evaluation (full or incremental): the sparkline.</summary>
public sealed class AudienceSizePoint : ISandboxScoped
{
    public long Id { get; set; }
    public string SandboxId { get; set; } = "";
    public string AudienceId { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public long Size { get; set; }
    public long Entered { get; set; }
    public long Exited { get; set; }
    /// <summary><c>full</c>, <c>batch</c> (incremental after a batch).</summary>
    public string Kind { get; set; } = "full";
}

public static class DestinationTypes
{
    public const string File = "file";
    public const string Webhook = "webhook";
}

/// <summary>Where the members of audiences go: a file (CSV / Parquet) or a webhook.</summary>
public sealed class Destination : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Type { get; set; } = DestinationTypes.File;
    /// <summary>File: a folder name under the export root; webhook: the URL.</summary>
    public string Target { get; set; } = "";
    /// <summary><c>csv</c> or <c>parquet</c> (file only).</summary>
    public string Format { get; set; } = "csv";
    /// <summary><c>full</c> (every current member) or <c>changes</c> (entered / exited since the last run).</summary>
    public string Mode { get; set; } = "full";
    public List<string> SegmentIds { get; set; } = [];
    public List<string> Attributes { get; set; } = [];
    public List<string> Identities { get; set; } = [];
    public string? Cron { get; set; }
    public DateTimeOffset? NextRunAt { get; set; }
    /// <summary>The last <see cref="AudienceChange.Id"/> delivered (changes mode).</summary>
    public long Cursor { get; set; }
    /// <summary>Webhook: the HMAC-SHA256 signing secret. Generated at creation and returned once; never serialized again.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Secret { get; set; }
    /// <summary>Webhook: changes per batch (1 to 10,000).</summary>
    public int BatchSize { get; set; } = 500;
    /// <summary>Webhook: at most this many batches per second (null: no limit).</summary>
    public double? RateLimit { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>One run of a destination with what it sent.</summary>
public sealed class DestinationRun : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string DestinationId { get; set; } = "";
    public string? JobRunId { get; set; }
    public string Status { get; set; } = "running";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public long Members { get; set; }
    public long Entered { get; set; }
    public long Exited { get; set; }
    public long Bytes { get; set; }
    public long FromChange { get; set; }
    public long ToChange { get; set; }
    public string? File { get; set; }
    public string? Error { get; set; }
    /// <summary>Webhook: batches acknowledged, HTTP attempts retried, batches dead-lettered.</summary>
    public long Batches { get; set; }
    public long Retries { get; set; }
    public long DeadLetters { get; set; }
}

/// <summary>A webhook batch that failed its last retry: its change range is not re-sent (the cursor moved past it).</summary>
public sealed class DestinationDeadLetter : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string DestinationId { get; set; } = "";
    public string RunId { get; set; } = "";
    /// <summary>The batch's idempotency key (also sent as <c>X-Portal-Batch-Id</c>).</summary>
    public string BatchId { get; set; } = "";
    public long FromChange { get; set; }
    public long ToChange { get; set; }
    public int Changes { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset At { get; set; }
}

internal sealed class DestinationDeadLetterConfiguration : IEntityTypeConfiguration<DestinationDeadLetter>
{
    public void Configure(EntityTypeBuilder<DestinationDeadLetter> b)
    {
        b.ToTable("destination_dead_letters");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.DestinationId).HasMaxLength(32);
        b.Property(x => x.RunId).HasMaxLength(32);
        b.Property(x => x.BatchId).HasMaxLength(100);
        b.HasIndex(x => new { x.DestinationId, x.At });
        Profiles.ProfileModel.SnakeCase(b);
    }
}

internal sealed class AudienceConfiguration : IEntityTypeConfiguration<Audience>
{
    public void Configure(EntityTypeBuilder<Audience> b)
    {
        b.ToTable("audiences");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Status).HasMaxLength(20);
        b.Property(x => x.MergePolicyId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.Name }).IsUnique();
        Profiles.ProfileModel.SnakeCase(b);
    }
}

internal sealed class AudienceMemberConfiguration : IEntityTypeConfiguration<AudienceMember>
{
    public void Configure(EntityTypeBuilder<AudienceMember> b)
    {
        b.ToTable("audience_members");
        b.HasKey(x => new { x.AudienceId, x.ProfileId });
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.AudienceId).HasMaxLength(32);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.ProfileId });
        Profiles.ProfileModel.SnakeCase(b);
    }
}

internal sealed class AudienceChangeConfiguration : IEntityTypeConfiguration<AudienceChange>
{
    public void Configure(EntityTypeBuilder<AudienceChange> b)
    {
        b.ToTable("audience_changes");
        b.HasKey(x => x.Id);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.AudienceId).HasMaxLength(32);
        b.Property(x => x.ProfileId).HasMaxLength(32);
        b.HasIndex(x => new { x.AudienceId, x.Id });
        b.HasIndex(x => new { x.SandboxId, x.ProfileId });
        Profiles.ProfileModel.SnakeCase(b);
    }
}

internal sealed class AudienceSizeConfiguration : IEntityTypeConfiguration<AudienceSizePoint>
{
    public void Configure(EntityTypeBuilder<AudienceSizePoint> b)
    {
        b.ToTable("audience_sizes");
        b.HasKey(x => x.Id);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.AudienceId).HasMaxLength(32);
        b.Property(x => x.Kind).HasMaxLength(20);
        b.HasIndex(x => new { x.AudienceId, x.At });
        Profiles.ProfileModel.SnakeCase(b);
    }
}

internal sealed class DestinationConfiguration : IEntityTypeConfiguration<Destination>
{
    private static readonly ValueComparer<List<string>> ListComparer =
        new((a, c) => a!.SequenceEqual(c!), v => v.Aggregate(0, (h, s) => HashCode.Combine(h, s)), v => v.ToList());

    public void Configure(EntityTypeBuilder<Destination> b)
    {
        b.ToTable("destinations");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Type).HasMaxLength(20);
        b.Property(x => x.Format).HasMaxLength(20);
        b.Property(x => x.Mode).HasMaxLength(20);
        foreach (var p in new[] { nameof(Destination.SegmentIds), nameof(Destination.Attributes), nameof(Destination.Identities) })
            b.Property<List<string>>(p).HasConversion(
                v => JsonSerializer.Serialize(v, (JsonSerializerOptions?)null),
                v => JsonSerializer.Deserialize<List<string>>(v, (JsonSerializerOptions?)null) ?? new List<string>(), ListComparer);
        b.HasIndex(x => new { x.SandboxId, x.Name }).IsUnique();
        Profiles.ProfileModel.SnakeCase(b);
    }
}

internal sealed class DestinationRunConfiguration : IEntityTypeConfiguration<DestinationRun>
{
    public void Configure(EntityTypeBuilder<DestinationRun> b)
    {
        b.ToTable("destination_runs");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.SandboxId).HasMaxLength(32);
        b.Property(x => x.DestinationId).HasMaxLength(32);
        b.Property(x => x.Status).HasMaxLength(20);
        b.HasIndex(x => new { x.DestinationId, x.StartedAt });
        Profiles.ProfileModel.SnakeCase(b);
    }
}
