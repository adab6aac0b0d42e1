using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Enrichment.Portal.Core.Catalog;

/// <summary>For <c>dotnet ef migrations add X --context SqliteCatalogDb --output-dir Catalog/Migrations/Sqlite</c>.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteCatalogDb>
{
    public SqliteCatalogDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite("Data Source=design.db", s => s.MigrationsHistoryTable("__ef_migrations")).Options, new SandboxContext());
}

/// <summary>For <c>dotnet ef migrations add X --context PostgresCatalogDb --output-dir Catalog/Migrations/Postgres</c>.</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresCatalogDb>
{
    public PostgresCatalogDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresCatalogDb>().UseNpgsql("Host=localhost;Database=design", n => n.MigrationsHistoryTable("__ef_migrations")).Options, new SandboxContext());
}
