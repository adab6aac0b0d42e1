using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Enrichment.Portal.Core.Catalog;

/// <summary>
/// A named lock that holds within the process (a semaphore per name: two jobs of one process on SQLite) and, on PostgreSQL,
/// across every process sharing the catalog (<see cref="AdvisoryLock"/>). For short check-then-create sections such as
/// "find the model's output dataset or create it".
/// </summary>
public sealed class CatalogLock : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Local = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim local;
    private readonly AdvisoryLock? shared;

    private CatalogLock(SemaphoreSlim local, AdvisoryLock? shared)
    {
        this.local = local;
        this.shared = shared;
    }

    public static async Task<CatalogLock> AcquireAsync(CatalogDb db, string name, CancellationToken ct)
    {
        var local = Local.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await local.WaitAsync(ct);
        try
        {
            var shared = AdvisoryLock.IsPostgres(db) ? await AdvisoryLock.AcquireAsync(db, name, ct) : null;
            return new CatalogLock(local, shared);
        }
        catch
        {
            local.Release();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { if (shared is not null) await shared.DisposeAsync(); }
        finally { local.Release(); }
    }

    /// <summary>Whether a save failed on a unique constraint (SQLite 19/2067, PostgreSQL 23505).</summary>
    public static bool IsUniqueViolation(Exception e) => (e as DbUpdateException)?.InnerException switch
    {
        SqliteException s => s.SqliteErrorCode == 19 && s.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
