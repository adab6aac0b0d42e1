using System.Linq.Expressions;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Enrichment.Portal.Core.Catalog;

/// <summary>
/// The catalog: every object of the portal. Entities are configured by the <see cref="IEntityTypeConfiguration{T}"/>
/// classes of this assembly (one per entity, next to it). Sandbox isolation lives here and nowhere else: every
/// <see cref="ISandboxScoped"/> entity gets a query filter on the scope's sandbox, and writes to another sandbox fail.
/// Use <c>IgnoreQueryFilters()</c> only for system work (authentication, start-up, recovery).
/// </summary>
public abstract class CatalogDb(DbContextOptions options, SandboxContext sandbox) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>The ASP.NET Core data-protection key ring (sign-in cookies, antiforgery): shared by every portal process of the
    /// catalog, so a sign-in made on one is valid on all (table <c>data_protection_keys</c>).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>Read by the query filters; EF evaluates it per query.</summary>
    public string? CurrentSandboxId => sandbox.SandboxId;

    public SandboxContext Sandbox => sandbox;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(CatalogDb).Assembly);
        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (!typeof(ISandboxScoped).IsAssignableFrom(entity.ClrType) || entity.BaseType is not null) continue;
            var e = Expression.Parameter(entity.ClrType, "e");
            var body = Expression.Equal(
                Expression.Property(e, nameof(ISandboxScoped.SandboxId)),
                Expression.Property(Expression.Constant(this), nameof(CurrentSandboxId)));
            modelBuilder.Entity(entity.ClrType).HasQueryFilter(Expression.Lambda(body, e));
            // Every query is filtered by sandbox: an index on it, unless the key or another index already starts with it
            // (a redundant index only costs writes, e.g. one more B-tree insert per profile fragment).
            var covered = entity.GetKeys().Any(k => k.Properties[0].Name == nameof(ISandboxScoped.SandboxId))
                          || entity.GetIndexes().Any(i => i.Properties[0].Name == nameof(ISandboxScoped.SandboxId));
            if (!covered) modelBuilder.Entity(entity.ClrType).HasIndex(nameof(ISandboxScoped.SandboxId));
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        StampSandbox();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        StampSandbox();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private void StampSandbox()
    {
        var current = sandbox.SandboxId;
        foreach (var entry in ChangeTracker.Entries<ISandboxScoped>())
        {
            if (entry.State == EntityState.Unchanged || entry.State == EntityState.Detached) continue;
            if (entry.State == EntityState.Added && string.IsNullOrEmpty(entry.Entity.SandboxId))
                entry.Entity.SandboxId = current ?? throw new InvalidOperationException(
                    $"A {entry.Entity.GetType().Name} was added without a sandbox and none is selected.");
            else if (current is not null && entry.Entity.SandboxId != current)
                throw new InvalidOperationException(
                    $"A {entry.Entity.GetType().Name} of another sandbox cannot be written from sandbox {current}.");
        }
    }
}

/// <summary>The SQLite catalog (default). Its migrations live in Catalog/Migrations/Sqlite.</summary>
public sealed class SqliteCatalogDb(DbContextOptions<SqliteCatalogDb> options, SandboxContext sandbox) : CatalogDb(options, sandbox)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset natively: store UTC ticks, which sort correctly.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
    }
}

/// <summary>The PostgreSQL catalog (scale-out). Its migrations live in Catalog/Migrations/Postgres.</summary>
public sealed class PostgresCatalogDb(DbContextOptions<PostgresCatalogDb> options, SandboxContext sandbox) : CatalogDb(options, sandbox);

/// <summary>Stores a <see cref="DateTimeOffset"/> as UTC ticks; read back as UTC.</summary>
public sealed class DateTimeOffsetToUtcTicksConverter() : ValueConverter<DateTimeOffset, long>(
    v => v.UtcTicks,
    v => new DateTimeOffset(v, TimeSpan.Zero));
