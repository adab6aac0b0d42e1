using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Enrichment.Portal.Core.Catalog;

/// <summary>
/// A PostgreSQL session advisory lock held on a connection of its own, for work that spans several transactions and must
/// run alone across every process sharing the catalog (one job run at a time, the start-up of a process, an audience
/// evaluation). Released by disposing, or by PostgreSQL when the holding process dies (its connection closes), so a
/// <c>kill -9</c> never leaves a lock behind. On SQLite (one process) <see cref="AcquireAsync(CatalogDb,string,CancellationToken)"/> returns a no-op.
/// </summary>
public sealed class AdvisoryLock : IAsyncDisposable
{
    private readonly NpgsqlConnection? connection;
    private readonly long key;

    private AdvisoryLock(NpgsqlConnection? connection, long key)
    {
        this.connection = connection;
        this.key = key;
    }

    /// <summary>Whether the catalog is on PostgreSQL (where locks must hold across processes).</summary>
    public static bool IsPostgres(CatalogDb db) => db.Database.ProviderName?.Contains("Npgsql", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The 64-bit key of a name (stable across processes and versions).</summary>
    public static long Key(string name) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("enrichment-portal/" + name)), 0);

    /// <summary>Waits for the lock named <paramref name="name"/> (no-op on SQLite); dispose the result to release it.</summary>
    public static Task<AdvisoryLock> AcquireAsync(CatalogDb db, string name, CancellationToken ct) =>
        IsPostgres(db) ? AcquireAsync(db.Database.GetConnectionString()!, Key(name), ct) : Task.FromResult(new AdvisoryLock(null, 0));

    /// <summary>Takes the lock if it is free; null when another session holds it (no-op lock on SQLite).</summary>
    public static async Task<AdvisoryLock?> TryAcquireAsync(CatalogDb db, string name, CancellationToken ct)
    {
        if (!IsPostgres(db)) return new AdvisoryLock(null, 0);
        var key = Key(name);
        var c = await OpenAsync(db.Database.GetConnectionString()!, ct);
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(@k)", c) { Parameters = { new("k", key) } };
        if (await cmd.ExecuteScalarAsync(ct) is true) return new AdvisoryLock(c, key);
        await c.DisposeAsync();
        return null;
    }

    /// <summary>Waits for the session lock <paramref name="key"/> on a new connection of <paramref name="connectionString"/>.</summary>
    public static async Task<AdvisoryLock> AcquireAsync(string connectionString, long key, CancellationToken ct)
    {
        var c = await OpenAsync(connectionString, ct);
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_lock(@k)", c) { CommandTimeout = 0, Parameters = { new("k", key) } };
            await cmd.ExecuteNonQueryAsync(ct);
            return new AdvisoryLock(c, key);
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken ct)
    {
        // Not pooled: a session lock belongs to its connection, and a pooled connection would outlive this lock.
        var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 10 }.ConnectionString);
        await c.OpenAsync(ct);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is null) return;
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(@k)", connection) { Parameters = { new("k", key) } };
            await cmd.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (NpgsqlException) { /* the connection is gone: PostgreSQL has released the lock with it */ }
        finally { await connection.DisposeAsync(); }
    }
}
