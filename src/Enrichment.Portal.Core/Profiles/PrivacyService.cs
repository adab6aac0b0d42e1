using Enrichment.Portal.Core.ProfileStore;
using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;
using Enrichment.Portal.Core.Identity;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>What a privacy delete removed: the profile id, the merged-away ids that pointed to it, and every identity
/// (namespace + normalized value) of the person, for the lake rewrite (<see cref="LakeRowRemover"/>).</summary>
public sealed record PrivacyDeleteResult(string ProfileId, IReadOnlyList<string> AliasIds, IReadOnlyList<ProfileIdentityView> Identities, long Fragments, long Events);

/// <summary>Privacy requests against the profile store.</summary>
public sealed class PrivacyService(CatalogDb db, Func<string, NamespaceInfo?>? namespaces = null, ProfileStoreLocks? locks = null)
{
    private readonly ProfileStoreLocks locks = locks ?? new ProfileStoreLocks();

    /// <summary>Removes the person that has identity (<paramref name="namespace"/>, <paramref name="id"/>) from the graph
    /// and the profile store: identities, links, evictions, fragments, events, aliases and the profile. Returns null
    /// when no profile has that identity. The caller rewrites the lake with the returned identities and audits the
    /// request (without the values).</summary>
    public async Task<PrivacyDeleteResult?> DeleteAsync(string sandboxId, string @namespace, string id, CancellationToken ct = default)
    {
        var info = BuiltInNamespaces.Resolve(namespaces, @namespace);
        var value = IdentityNormalizer.Normalize(info.Normalizer, id);
        if (value is null) return null;
        var sql = await ProfileSql.OpenAsync(db, ct);
        try
        {
            using var held = await locks.AcquireAsync(sandboxId, ct);
            await using var tx = await ProfileIngestor.BeginLockedAsync(sql, sandboxId, ct);
            string? pid = null;
            await using (var cmd = sql.Command("SELECT profile_id FROM profile_identities WHERE sandbox_id=@p0 AND namespace=@p1 AND value=@p2", sandboxId, info.Code, value))
                pid = await cmd.ExecuteScalarAsync(ct) as string;
            if (pid is null) return null;
            var identities = new List<ProfileIdentityView>();
            await using (var cmd = sql.Command("SELECT namespace, value FROM profile_identities WHERE sandbox_id=@p0 AND profile_id=@p1", sandboxId, pid))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) identities.Add(new ProfileIdentityView(r.GetString(0), r.GetString(1)));
            await using (var cmd = sql.Command("SELECT namespace, value FROM profile_evictions WHERE sandbox_id=@p0 AND profile_id=@p1", sandboxId, pid))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) identities.Add(new ProfileIdentityView(r.GetString(0), r.GetString(1)));
            var aliases = new List<string>();
            await using (var cmd = sql.Command("SELECT alias_id FROM profile_aliases WHERE sandbox_id=@p0 AND profile_id=@p1", sandboxId, pid))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) aliases.Add(r.GetString(0));
            await sql.ExecAsync("DELETE FROM profile_identities WHERE sandbox_id=@p0 AND profile_id=@p1", ct, sandboxId, pid);
            await sql.ExecAsync("DELETE FROM profile_links WHERE sandbox_id=@p0 AND profile_id=@p1", ct, sandboxId, pid);
            await sql.ExecAsync("DELETE FROM profile_evictions WHERE sandbox_id=@p0 AND profile_id=@p1", ct, sandboxId, pid);
            await sql.ExecAsync("DELETE FROM profile_aliases WHERE sandbox_id=@p0 AND profile_id=@p1", ct, sandboxId, pid);
            var fragments = await sql.ExecAsync("DELETE FROM profile_fragments WHERE sandbox_id=@p0 AND profile_id=@p1", ct, sandboxId, pid);
            var events = await sql.ExecAsync("DELETE FROM profile_events WHERE sandbox_id=@p0 AND profile_id=@p1", ct, sandboxId, pid);
            await sql.ExecAsync("DELETE FROM profiles WHERE sandbox_id=@p0 AND id=@p1", ct, sandboxId, pid);
            await tx.CommitAsync(ct);
            sql.Transaction = null;
            return new PrivacyDeleteResult(pid, aliases, identities.Distinct().ToList(), fragments, events);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
