using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Query;

/// <summary>One run of a user's query (success or refusal), for the history on the SQL page and <c>GET /queries/history</c>.</summary>
public sealed class QueryHistoryEntry : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    /// <summary>Who ran it: <c>user:&lt;id&gt;</c> or <c>key:&lt;id&gt;</c> (the history is per principal).</summary>
    public string Principal { get; set; } = "";
    /// <summary>The display name of the user or key.</summary>
    public string? Actor { get; set; }
    public string Sql { get; set; } = "";
    public int? RowCount { get; set; }
    public bool Truncated { get; set; }
    public long ElapsedMs { get; set; }
    /// <summary>The reason shown to the user when the query was refused, failed or timed out.</summary>
    public string? Error { get; set; }
    public DateTimeOffset At { get; set; } = DateTimeOffset.UtcNow;
}

internal sealed class QueryHistoryEntryConfiguration : IEntityTypeConfiguration<QueryHistoryEntry>
{
    public void Configure(EntityTypeBuilder<QueryHistoryEntry> b)
    {
        b.ToTable("query_history");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Principal).HasMaxLength(100);
        b.Property(x => x.Actor).HasMaxLength(200);
        b.Property(x => x.Error).HasMaxLength(4000);
        b.HasIndex(x => new { x.SandboxId, x.Principal, x.At });
    }
}
