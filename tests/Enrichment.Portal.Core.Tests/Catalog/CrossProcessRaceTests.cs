using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Scoring;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Enrichment.Portal.Core.Tests.Catalog;

/// <summary>
/// Check-then-create steps that two workers (or two jobs of one process) run at the same moment: the next version number of
/// a model, the scoring output dataset of a model, the default merge policy of a sandbox. Each test starts several
/// "processes" (service providers of their own, each with its own contexts and connections) behind a barrier and runs the
/// step at once, on SQLite and on PostgreSQL (<c>EP_TEST_POSTGRES</c>); the store must hold exactly one result and every
/// caller must succeed with it.
/// </summary>
public sealed class CrossProcessRaceTests
{
    private const string Sandbox = "sbx-race";
    private const int Racers = 6;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Providers => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Concurrent_new_versions_of_one_model_get_distinct_numbers(string provider)
    {
        await using var env = await Env.CreateAsync(provider);
        var modelId = await env.InScopeAsync(async db =>
        {
            var m = new Model { Name = "churn", Recipe = "churn" };
            db.Add(m);
            await db.SaveChangesAsync(Ct);
            return m.Id;
        });
        var numbers = await env.RaceAsync(async db =>
        {
            var v = new ModelVersion { ModelId = modelId, RunId = Ids.New(), ArtifactPath = "/x", Recipe = "churn", MetricsJson = "{}" };
            db.Add(v);
            return await ModelVersionNumbers.SaveWithNextNumberAsync(db, v, Ct);
        });
        Assert.Equal(Enumerable.Range(1, Racers), numbers.Order());
        var stored = await env.InScopeAsync(db => db.Set<ModelVersion>().Where(v => v.ModelId == modelId).Select(v => v.Number).ToListAsync(Ct));
        Assert.Equal(Enumerable.Range(1, Racers), stored.Order());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Concurrent_scoring_runs_of_one_model_share_one_output_dataset(string provider)
    {
        await using var env = await Env.CreateAsync(provider);
        var model = new Model { Id = Ids.New(), SandboxId = Sandbox, Name = "churn", Recipe = "churn" };
        var target = new ResolvedTarget([], "crmId", "crmId", "CRMID", [], "test target");
        var ids = await env.RaceAsync(async (db, sp) => (await sp.GetRequiredService<ScoringOutput>().EnsureDatasetAsync(model, target, Ct)).Id);
        Assert.Single(ids.Distinct());
        var name = ScoringService.OutputDatasetName(model.Name);
        var (datasets, schemas) = await env.InScopeAsync(async db => (
            await db.Set<Dataset>().CountAsync(d => d.System && d.Name == name, Ct),
            await db.Set<Schema>().CountAsync(s => s.Name.StartsWith(name), Ct)));
        Assert.Equal(1, datasets);
        Assert.Equal(1, schemas);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Concurrent_first_ingestions_share_one_default_merge_policy(string provider)
    {
        await using var env = await Env.CreateAsync(provider);
        var ids = await env.RaceAsync(async db => (await new MergePolicyService(db).GetDefaultAsync(Sandbox, Ct)).Id);
        Assert.Single(ids.Distinct());
        var count = await env.InScopeAsync(db => db.Set<MergePolicy>().IgnoreQueryFilters().CountAsync(p => p.SandboxId == Sandbox, Ct));
        Assert.Equal(1, count);
    }

    /// <summary>A catalog (SQLite file in WAL mode, or a fresh PostgreSQL database) and <see cref="Racers"/> service providers on it.</summary>
    private sealed class Env : IAsyncDisposable
    {
        private readonly TestData.TempDir dir = TestData.NewTempDir();
        private readonly List<ServiceProvider> processes = [];
        private string? pgAdmin, pgDatabase;

        public static async Task<Env> CreateAsync(string provider)
        {
            var env = new Env();
            string cs;
            if (provider == "sqlite") cs = $"Data Source={Path.Combine(env.dir.Path, "catalog.db")};Default Timeout=60";
            else
            {
                var admin = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
                if (string.IsNullOrEmpty(admin)) Assert.Skip("EP_TEST_POSTGRES is not set: no PostgreSQL server for this run (CI starts one).");
                env.pgAdmin = admin;
                env.pgDatabase = "ep_test_" + Guid.NewGuid().ToString("N")[..12];
                await using (var conn = new NpgsqlConnection(admin))
                {
                    await conn.OpenAsync(Ct);
                    await using var cmd = new NpgsqlCommand($"CREATE DATABASE {env.pgDatabase}", conn);
                    await cmd.ExecuteNonQueryAsync(Ct);
                }
                cs = new NpgsqlConnectionStringBuilder(admin) { Database = env.pgDatabase }.ConnectionString;
            }
            for (var i = 0; i < Racers; i++)
            {
                var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Enrichment:DataDirectory"] = env.dir.Path }).Build();
                var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(config);
                services.AddPortalCore(provider != "sqlite", _ => cs);
                services.AddSingleton<Hangfire.IBackgroundJobClient, NoJobs>(); // the steps raced here enqueue nothing
                env.processes.Add(services.BuildServiceProvider());
            }
            await env.InScopeAsync(async db =>
            {
                await db.Database.MigrateAsync(Ct);
                if (provider == "sqlite") await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", Ct);
                return 0;
            });
            return env;
        }

        public async Task<T> InScopeAsync<T>(Func<CatalogDb, Task<T>> work)
        {
            await using var scope = processes[0].CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<SandboxContext>().SandboxId = Sandbox;
            return await work(scope.ServiceProvider.GetRequiredService<CatalogDb>());
        }

        public Task<T[]> RaceAsync<T>(Func<CatalogDb, Task<T>> work) => RaceAsync((db, _) => work(db));

        /// <summary>Runs <paramref name="work"/> once in each process, all released at once.</summary>
        public async Task<T[]> RaceAsync<T>(Func<CatalogDb, IServiceProvider, Task<T>> work)
        {
            using var start = new Barrier(Racers);
            return await Task.WhenAll(processes.Select(p => Task.Run(async () =>
            {
                await using var scope = p.CreateAsyncScope();
                scope.ServiceProvider.GetRequiredService<SandboxContext>().SandboxId = Sandbox;
                var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
                await db.Database.OpenConnectionAsync(Ct); // connected before the start, so the race is in the step itself
                start.SignalAndWait(Ct);
                return await work(db, scope.ServiceProvider);
            }, Ct)));
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var p in processes) await p.DisposeAsync();
            SqliteConnection.ClearAllPools();
            dir.Dispose();
            if (pgDatabase is not null) await PgTestDatabase.DropAsync(pgAdmin!, pgDatabase);
        }
    }

    private sealed class NoJobs : Hangfire.IBackgroundJobClient
    {
        public string Create(Hangfire.Common.Job job, Hangfire.States.IState state) => throw new InvalidOperationException("No job is enqueued in these tests.");
        public bool ChangeState(string jobId, Hangfire.States.IState state, string expectedState) => throw new InvalidOperationException("No job is enqueued in these tests.");
    }
}
