using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Exploration;

public static class StatsCacheStatus
{
    public const string Computing = "computing";
    public const string Ready = "ready";
    public const string Failed = "failed";
}

/// <summary>
/// Statistics of one dataset version for one target, kept so that reopening is instant. The version is
/// <see cref="VersionKey"/>: a hash of the committed batch folders; a new batch makes a new key (old rows are pruned).
/// </summary>
public sealed class DatasetStatsCacheEntry : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    /// <summary>SHA-256 of the committed batch folder names (the dataset version).</summary>
    public string VersionKey { get; set; } = "";
    /// <summary>The target column, "" without one.</summary>
    public string Target { get; set; } = "";
    /// <summary>The requested positive value, "" for the default.</summary>
    public string Positive { get; set; } = "";
    public string Status { get; set; } = StatsCacheStatus.Computing;
    /// <summary>The <see cref="StatsReport"/> as JSON once ready.</summary>
    public string? ReportJson { get; set; }
    public string? Error { get; set; }
    /// <summary>The background job computing it, when one does.</summary>
    public string? JobRunId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? ComputedAt { get; set; }
}

internal sealed class DatasetStatsCacheEntryConfiguration : IEntityTypeConfiguration<DatasetStatsCacheEntry>
{
    public void Configure(EntityTypeBuilder<DatasetStatsCacheEntry> b)
    {
        b.ToTable("dataset_stats_cache");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.DatasetId).HasMaxLength(32);
        b.Property(x => x.VersionKey).HasMaxLength(64);
        b.Property(x => x.Target).HasMaxLength(500);
        b.Property(x => x.Positive).HasMaxLength(500);
        b.Property(x => x.Status).HasMaxLength(20);
        b.Property(x => x.JobRunId).HasMaxLength(32);
        b.HasIndex(x => new { x.SandboxId, x.DatasetId, x.VersionKey, x.Target, x.Positive });
    }
}
