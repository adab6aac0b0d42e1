using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Enrichment.Portal.Core.Tests.Catalog;

/// <summary>
/// The catalog on each provider, through its real migrations: SQLite always; PostgreSQL when <c>EP_TEST_POSTGRES</c>
/// names a server (CI starts one on 127.0.0.1), otherwise those cases report themselves skipped.
/// </summary>
public sealed class CatalogProviderTests
{
    public static TheoryData<string> Providers => new() { "sqlite", "postgres" };

    private sealed class Catalog : IAsyncDisposable
    {
        private readonly string? _pgDatabase;
        private readonly string? _pgAdmin;
        private readonly TestData.TempDir? _dir;
        public Func<string?, CatalogDb> Open { get; }

        public Catalog(string provider)
        {
            if (provider == "sqlite")
            {
                _dir = TestData.NewTempDir();
                var cs = $"Data Source={Path.Combine(_dir.Path, "catalog.db")}";
                Open = sandbox => new SqliteCatalogDb(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite(cs, s => s.MigrationsHistoryTable("__ef_migrations")).Options, new SandboxContext { SandboxId = sandbox });
                return;
            }
            _pgAdmin = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
            if (string.IsNullOrEmpty(_pgAdmin)) Assert.Skip("EP_TEST_POSTGRES is not set: no PostgreSQL server for this run (CI starts one).");
            _pgDatabase = "ep_test_" + Guid.NewGuid().ToString("N")[..12];
            using (var admin = new NpgsqlConnection(_pgAdmin))
            {
                admin.Open();
                using var cmd = new NpgsqlCommand($"CREATE DATABASE {_pgDatabase}", admin);
                cmd.ExecuteNonQuery();
            }
            var pg = new NpgsqlConnectionStringBuilder(_pgAdmin) { Database = _pgDatabase }.ConnectionString;
            Open = sandbox => new PostgresCatalogDb(new DbContextOptionsBuilder<PostgresCatalogDb>().UseNpgsql(pg, n => n.MigrationsHistoryTable("__ef_migrations")).Options, new SandboxContext { SandboxId = sandbox });
        }

        public async ValueTask DisposeAsync()
        {
            _dir?.Dispose();
            if (_pgDatabase is null) return;
            await PgTestDatabase.DropAsync(_pgAdmin!, _pgDatabase);
        }
    }

    private static async Task<(string Prod, string Dev)> SeedAsync(Catalog catalog)
    {
        await using var db = catalog.Open(null);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        var prod = new Sandbox { Name = "prod", Title = "Production" };
        var dev = new Sandbox { Name = "dev", Title = "Development" };
        db.AddRange(prod, dev);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return (prod.Id, dev.Id);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Migrations_apply_and_a_sandbox_sees_only_its_own_rows(string provider)
    {
        await using var catalog = new Catalog(provider);
        var (prod, dev) = await SeedAsync(catalog);
        var ct = TestContext.Current.CancellationToken;
        await using (var db = catalog.Open(prod))
        {
            db.Add(new JobRun { Kind = "diagnostic", TargetId = "prod-job" });
            await db.SaveChangesAsync(ct);
        }
        await using (var db = catalog.Open(dev))
        {
            db.Add(new JobRun { Kind = "diagnostic", TargetId = "dev-job" });
            await db.SaveChangesAsync(ct);
            Assert.Equal(["dev-job"], await db.Set<JobRun>().Select(j => j.TargetId!).ToListAsync(ct));
        }
        await using (var db = catalog.Open(prod))
        {
            var jobs = await db.Set<JobRun>().OrderByDescending(j => j.CreatedAt).ToListAsync(ct);
            Assert.Equal(["prod-job"], jobs.Select(j => j.TargetId));
            Assert.Equal(prod, jobs[0].SandboxId);
        }
        await using (var db = catalog.Open(null))
            Assert.Empty(await db.Set<JobRun>().ToListAsync(ct)); // no sandbox selected: nothing is visible
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Writing_a_row_of_another_sandbox_fails(string provider)
    {
        await using var catalog = new Catalog(provider);
        var (prod, dev) = await SeedAsync(catalog);
        var ct = TestContext.Current.CancellationToken;
        string id;
        await using (var db = catalog.Open(prod))
        {
            var run = new JobRun { Kind = "diagnostic" };
            db.Add(run);
            await db.SaveChangesAsync(ct);
            id = run.Id;
        }
        await using (var db = catalog.Open(dev))
        {
            var foreign = await db.Set<JobRun>().IgnoreQueryFilters().SingleAsync(j => j.Id == id, ct);
            foreign.Status = JobStatus.Failed;
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync(ct));
            db.Add(new JobRun { Kind = "diagnostic", SandboxId = prod });
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Api_keys_are_stored_hashed_verified_across_sandboxes_and_revoked(string provider)
    {
        await using var catalog = new Catalog(provider);
        var (_, dev) = await SeedAsync(catalog);
        var ct = TestContext.Current.CancellationToken;
        CreatedApiKey created;
        await using (var db = catalog.Open(dev))
            created = await new ApiKeyService(db, TimeProvider.System).CreateAsync("script", Roles.Scientist, "test", ct: ct);
        await using (var db = catalog.Open(null))
        {
            var service = new ApiKeyService(db, TimeProvider.System);
            var found = await service.VerifyAsync(created.Secret, ct);
            Assert.NotNull(found);
            Assert.Equal(dev, found.SandboxId);
            Assert.NotNull(found.LastUsedAt);
            Assert.Null(await service.VerifyAsync(created.Secret + "x", ct));
            Assert.DoesNotContain(await db.Set<ApiKey>().IgnoreQueryFilters().Select(k => k.Hash).ToListAsync(ct), h => h == created.Secret);
        }
        await using (var db = catalog.Open(dev))
            Assert.True(await new ApiKeyService(db, TimeProvider.System).RevokeAsync(created.Key.Id, ct));
        await using (var db = catalog.Open(null))
            Assert.Null(await new ApiKeyService(db, TimeProvider.System).VerifyAsync(created.Secret, ct));
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Wrong_passwords_never_lock_the_account_and_unknown_names_get_the_same_answer(string provider)
    {
        await using var catalog = new Catalog(provider);
        var (prod, _) = await SeedAsync(catalog);
        var ct = TestContext.Current.CancellationToken;
        await using var db = catalog.Open(prod);
        var users = new UserService(db, TimeProvider.System);
        await users.CreateAsync("Jane", "Jane Doe", "correct-horse", prod, Roles.Engineer, ct);
        Assert.True((await users.CheckLoginAsync("jane", "correct-horse", ct)).Succeeded);
        for (var i = 0; i < 3 * LoginBackoff.FreeAttempts; i++)
        {
            var known = await users.CheckLoginAsync("jane", "wrong", ct);
            var unknown = await users.CheckLoginAsync("nobody-" + i, "wrong", ct);
            Assert.False(known.Succeeded);
            Assert.Equal(unknown.Error, known.Error);
        }
        // A stranger's failures do not keep Jane out: throttling is per (address, name), in LoginBackoff.
        Assert.True((await users.CheckLoginAsync("jane", "correct-horse", ct)).Succeeded);
    }
}
