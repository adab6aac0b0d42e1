using Enrichment.Portal.Core.Catalog;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Enrichment.Portal.Web.Hosting;

/// <summary>
/// The scale-out topology (docs/DEPLOYMENT.md): UI/API processes and <c>--worker</c> processes sharing one PostgreSQL
/// (catalog, profile store, Hangfire queue, data-protection keys) and one data directory.
/// </summary>
public static class ScaleOut
{
    /// <summary>Turns the <c>--worker</c> switch into <c>Jobs:Worker=true</c> (a switch, not a configuration key).</summary>
    public static string[] TakeWorkerSwitch(string[] args) =>
        args.Contains("--worker") ? [.. args.Where(a => a != "--worker"), "--Jobs:Worker=true"] : args;

    /// <summary>Whether this process is a job worker: the Hangfire server and the job services, no UI, no API, only <c>/health</c>.</summary>
    public static bool IsWorker(IConfiguration config) => config.GetValue<bool>("Jobs:Worker");

    /// <summary>A worker needs the shared queue: on SQLite the queue is in the memory of one process.</summary>
    public static void CheckWorker(IConfiguration config, bool postgres)
    {
        if (IsWorker(config) && !postgres)
            throw new InvalidOperationException("--worker needs the PostgreSQL catalog (Database:Provider=Postgres and ConnectionStrings:Catalog): " +
                                                "with SQLite the job queue lives in the one portal process, which runs the jobs itself.");
    }

    /// <summary>The key ring in the catalog (table <c>data_protection_keys</c>), so that every UI process reads sign-in cookies of the others.</summary>
    public static void AddSharedKeyRing(this IServiceCollection services) =>
        services.AddDataProtection().SetApplicationName("enrichment-portal").PersistKeysToDbContext<CatalogDb>();

    /// <summary>Hangfire on PostgreSQL: schema <c>hangfire</c>; a job a dead worker held becomes visible again after
    /// <c>Jobs:InvisibilityTimeoutSeconds</c> (default 300), kept invisible while its worker lives (sliding timeout).</summary>
    public static PostgreSqlStorageOptions StorageOptions(IConfiguration config) => new()
    {
        SchemaName = "hangfire",
        PrepareSchemaIfNecessary = true,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = TimeSpan.FromSeconds(Math.Clamp(config.GetValue<double?>("Jobs:InvisibilityTimeoutSeconds") ?? 300, 2, 86_400)),
        QueuePollInterval = TimeSpan.FromSeconds(Math.Clamp(config.GetValue<double?>("Jobs:QueuePollSeconds") ?? 15, 0.2, 600)),
        EnableLongPolling = config.GetValue("Jobs:LongPolling", true),
    };

    /// <summary>The job server's heartbeat (<c>Jobs:HeartbeatSeconds</c>, default 30); a server silent for 4 heartbeats is removed from the list.</summary>
    public static void ConfigureServer(BackgroundJobServerOptions o, IConfiguration config)
    {
        var heartbeat = TimeSpan.FromSeconds(Math.Clamp(config.GetValue<double?>("Jobs:HeartbeatSeconds") ?? 30, 1, 600));
        o.HeartbeatInterval = heartbeat;
        o.ServerTimeout = heartbeat * 4;
        o.ServerCheckInterval = heartbeat;
        o.ServerName = $"{Environment.MachineName}:{(IsWorker(config) ? "worker" : "portal")}:{Environment.ProcessId}";
    }

    /// <summary>
    /// Start-up of a process sharing PostgreSQL: creates the database if missing, then runs <paramref name="initialize"/>
    /// (migrations, bootstrap, recovery) and creates the data-protection key under one advisory lock, so that processes
    /// started together neither migrate nor bootstrap nor make a first key twice.
    /// </summary>
    public static async Task InitializeSerializedAsync(IServiceProvider services, Func<CancellationToken, Task> initialize, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        if (AdvisoryLock.IsPostgres(db)) await CreateDatabaseIfMissingAsync(db, ct);
        await using (await AdvisoryLock.AcquireAsync(db, "startup", ct))
        {
            await initialize(ct);
            // Loads (or creates, once for all processes) the key ring now, inside the lock.
            services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Enrichment.Portal.Startup").Protect("ready");
        }
    }

    private static async Task CreateDatabaseIfMissingAsync(CatalogDb db, CancellationToken ct)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(ct)) return;
        try { await creator.CreateAsync(ct); }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation) { /* another process made it */ }
    }
}
