using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Enrichment.Portal.Core.ProfileStore;

/// <summary>
/// Serializes the writes of the identity and profile stages per sandbox. Each chunk of an ingestion (one transaction:
/// read the existing identities, link, create profiles, write fragments / events, materialize) runs alone in its
/// sandbox, so two ingestions that meet the same new identity cannot both create a profile for it (the second would
/// lose its identity to <c>ON CONFLICT DO NOTHING</c> and keep an orphan profile), and on SQLite two writers do not
/// deadlock on the file lock. Chunks of different batches interleave, so a streamed record waits for one chunk of a
/// large batch, not the whole batch.
/// <para>In-process: one instance per process (a singleton in DI). Across processes (the PostgreSQL scale-out with
/// <c>--worker</c> processes) each chunk transaction also takes <c>pg_advisory_xact_lock(<see cref="AdvisoryKey"/>)</c>,
/// released by its commit or rollback. On SQLite the catalog is one file of one machine, so the process lock suffices
/// as long as one portal process writes to it (the single-node default).</para>
/// </summary>
public sealed class ProfileStoreLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> locks = new(StringComparer.Ordinal);

    /// <summary>Waits for the sandbox's profile-store lock; dispose the result to release it.</summary>
    public async Task<IDisposable> AcquireAsync(string sandboxId, CancellationToken ct)
    {
        var gate = locks.GetOrAdd(sandboxId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Releaser(gate);
    }

    /// <summary>The 64-bit key of the sandbox's PostgreSQL advisory lock (stable across processes and versions).</summary>
    public static long AdvisoryKey(string sandboxId) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("enrichment-portal/profile-store/" + sandboxId)), 0);

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) gate.Release();
        }
    }
}
