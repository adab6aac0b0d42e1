using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Enrichment.Portal.Core.Tests.Profiles;

/// <summary>A catalog for one test on either provider: a temp SQLite file (WAL, as the portal runs it), or a fresh
/// PostgreSQL database (migrated) on the server <c>EP_TEST_POSTGRES</c> names; without it, PostgreSQL tests are skipped.</summary>
internal sealed class TestCatalog : IAsyncDisposable
{
    private readonly TestData.TempDir? dir;
    private readonly string? pgAdmin;
    private readonly string? pgDatabase;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    public required Func<CatalogDb> Open { get; init; }

    private TestCatalog(TestData.TempDir? dir, string? pgAdmin, string? pgDatabase)
    {
        this.dir = dir;
        this.pgAdmin = pgAdmin;
        this.pgDatabase = pgDatabase;
    }

    public static async Task<TestCatalog> CreateAsync(string provider, string sandbox)
    {
        if (provider == "sqlite")
        {
            var dir = TestData.NewTempDir();
            var cs = $"Data Source={Path.Combine(dir.Path, "catalog.db")}";
            var c = new TestCatalog(dir, null, null)
            {
                Open = () => new SqliteCatalogDb(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite(cs).Options, new SandboxContext { SandboxId = sandbox }),
            };
            await using var db = c.Open();
            await db.Database.EnsureCreatedAsync(Ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", Ct);
            return c;
        }
        var admin = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
        if (string.IsNullOrEmpty(admin)) Assert.Skip("EP_TEST_POSTGRES is not set: no PostgreSQL server for this run (CI starts one).");
        var name = "ep_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync(Ct);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync(Ct);
        }
        var pg = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        var catalog = new TestCatalog(null, admin, name)
        {
            Open = () => new PostgresCatalogDb(new DbContextOptionsBuilder<PostgresCatalogDb>().UseNpgsql(pg, n => n.MigrationsHistoryTable("__ef_migrations")).Options, new SandboxContext { SandboxId = sandbox }),
        };
        await using (var db = catalog.Open()) await db.Database.MigrateAsync(Ct);
        return catalog;
    }

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        dir?.Dispose();
        if (pgDatabase is null) return;
        await Catalog.PgTestDatabase.DropAsync(pgAdmin!, pgDatabase);
    }
}
