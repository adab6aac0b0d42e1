using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Jobs;

internal sealed class JobRunConfiguration : IEntityTypeConfiguration<JobRun>
{
    public void Configure(EntityTypeBuilder<JobRun> b)
    {
        b.ToTable("job_runs");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Kind).HasMaxLength(50);
        b.Property(x => x.Status).HasMaxLength(20);
        b.HasIndex(x => new { x.Status, x.CreatedAt });
    }
}
