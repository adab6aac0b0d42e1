using Enrichment.Portal.Core.ProfileStore;

namespace Enrichment.Portal.Core.Identity;

/// <summary>
/// Identity stitching: links the identities of a chunk of records into the identity graph of the profile store. Identities met
/// together in one record belong to one profile; a record that joins two existing profiles merges them (the oldest survives,
/// the other becomes an alias); new identities get a new profile; a graph over <see cref="ProfileStoreOptions.MaxIdentitiesPerGraph"/>
/// evicts its oldest cookie and device identities first. Every link records the dataset and batch that made it. The profile stage
/// (<c>Profiles/ProfileIngestor</c>) calls it for each chunk, then merges the records' attributes into the profiles it assigned.
/// Normalization of the values (<see cref="IdentityNormalizer"/>) happens before, when a record's keys are built.
/// </summary>
public sealed class IdentityStitcher(ProfileStoreOptions options)
{
    /// <summary>Separates namespace and value in an identity key.</summary>
    public const char KeySep = '\u001f';

    /// <summary>
    /// Links the chunk's identities (inside the caller's locked transaction on <see cref="StitchRun.Sql"/>); assigns each record its
    /// profile id. Returns the profiles whose merged attributes must be recomputed (merge survivors).
    /// </summary>
    internal async Task<HashSet<string>> StitchAsync(StitchRun run, IReadOnlyList<StitchRecord> records, CancellationToken ct)
    {
        var sql = run.Sql;
        var sandbox = run.SandboxId;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new List<string>();
        var firstSeen = new List<DateTimeOffset>();
        foreach (var rec in records)
        {
            run.Records++;
            if (rec.Keys.Count == 0) { run.WithoutIdentity++; continue; }
            foreach (var k in rec.Keys)
            {
                if (index.TryGetValue(k, out var i)) { if (rec.Time < firstSeen[i]) firstSeen[i] = rec.Time; continue; }
                index[k] = keys.Count;
                keys.Add(k);
                firstSeen.Add(rec.Time);
            }
        }
        var recompute = new HashSet<string>(StringComparer.Ordinal);
        if (keys.Count == 0) return recompute;

        // Existing identities of the chunk, one IN query per namespace.
        var existing = new string?[keys.Count];
        foreach (var group in keys.Select((k, i) => (k, i)).GroupBy(x => x.k[..x.k.IndexOf(KeySep)]))
        {
            var ns = group.Key;
            var vals = group.Select(x => x.k[(ns.Length + 1)..]).ToList();
            await sql.ForEachInAsync("SELECT value, profile_id FROM profile_identities WHERE sandbox_id=@p0 AND namespace=@p1 AND value IN ({in})",
                [sandbox, ns], vals, r => existing[index[ns + KeySep + r.GetString(0)]] = r.GetString(1), ct);
        }

        // Union-find over identities and the existing profiles they belong to.
        var profileNode = new Dictionary<string, int>(StringComparer.Ordinal);
        var parent = new List<int>(keys.Count + 16);
        for (var i = 0; i < keys.Count; i++) parent.Add(i);
        int Find(int x) { while (parent[x] != x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; }
        void Union(int a, int b) { a = Find(a); b = Find(b); if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b); }
        for (var i = 0; i < keys.Count; i++)
        {
            if (existing[i] is not { } pid) continue;
            if (!profileNode.TryGetValue(pid, out var node)) { node = parent.Count; parent.Add(node); profileNode[pid] = node; }
            Union(i, node);
        }
        foreach (var rec in records)
            for (var j = 1; j < rec.Keys.Count; j++) Union(index[rec.Keys[0]], index[rec.Keys[j]]);

        // Components: their identities (new ones) and existing profiles.
        var comps = new Dictionary<int, Component>();
        Component Comp(int root) { if (!comps.TryGetValue(root, out var c)) comps[root] = c = new Component(); return c; }
        for (var i = 0; i < keys.Count; i++)
        {
            var c = Comp(Find(i));
            if (existing[i] is null) c.NewKeys.Add(i);
        }
        foreach (var (pid, node) in profileNode) Comp(Find(node)).Profiles.Add(pid);

        // Profile facts needed for merges and limits.
        var need = comps.Values.Where(c => c.Profiles.Count > 1 || (c.Profiles.Count == 1 && c.NewKeys.Count > 0)).SelectMany(c => c.Profiles).ToList();
        var info = new Dictionary<string, (DateTimeOffset Created, int Count, bool HitLimit)>(StringComparer.Ordinal);
        await sql.ForEachInAsync("SELECT id, created_at, identity_count, hit_limit FROM profiles WHERE sandbox_id=@p0 AND id IN ({in})",
            [sandbox], need, r => info[r.GetString(0)] = (sql.ReadTime(r, 1), r.GetInt32(2), r.GetBoolean(3)), ct);

        var now = DateTimeOffset.UtcNow;
        await using var newProfiles = sql.Bulk("profiles", ["id", "sandbox_id", "created_at", "updated_at", "identity_count", "hit_limit", "attributes", "provenance"], "ON CONFLICT DO NOTHING");
        await using var newIdentities = sql.Bulk("profile_identities", ["sandbox_id", "namespace", "value", "profile_id", "first_seen"], "ON CONFLICT DO NOTHING");
        var overLimit = new List<string>();
        var counts = new List<(string Id, int Count)>();
        var rootProfile = new Dictionary<int, string>();
        foreach (var (root, c) in comps)
        {
            string pid;
            var count = c.NewKeys.Count;
            if (c.Profiles.Count == 0)
            {
                pid = Ids.New();
                run.ProfilesCreated++;
                run.Created.Add(pid);
                var minSeen = c.NewKeys.Min(i => firstSeen[i]);
                await newProfiles.AddAsync(ct, pid, sandbox, sql.Time(now), sql.Time(minSeen), count, false, "{}", "{}");
            }
            else if (c.Profiles.Count == 1)
            {
                pid = c.Profiles[0];
                if (count > 0) { count += info.TryGetValue(pid, out var f) ? f.Count : 0; run.Updated.Add(pid); }
            }
            else
            {
                var ordered = c.Profiles.OrderBy(p => info.TryGetValue(p, out var f) ? f.Created : DateTimeOffset.MaxValue).ThenBy(p => p, StringComparer.Ordinal).ToList();
                pid = ordered[0];
                var hit = info.TryGetValue(pid, out var keep) && keep.HitLimit;
                count += keep.Count;
                foreach (var lose in ordered.Skip(1))
                {
                    var lf = info.TryGetValue(lose, out var l) ? l : default;
                    count += lf.Count;
                    hit |= lf.HitLimit;
                    await MergeProfilesAsync(sql, sandbox, lose, pid, now, ct);
                    run.ProfilesMerged++;
                }
                await sql.ExecAsync("UPDATE profiles SET identity_count=@p0, hit_limit=@p1, updated_at=@p2 WHERE sandbox_id=@p3 AND id=@p4", ct, count, hit, sql.Time(now), sandbox, pid);
                recompute.Add(pid);
                run.Updated.Add(pid);
            }
            rootProfile[root] = pid;
            foreach (var i in c.NewKeys)
            {
                var k = keys[i];
                var sep = k.IndexOf(KeySep);
                await newIdentities.AddAsync(ct, sandbox, k[..sep], k[(sep + 1)..], pid, sql.Time(firstSeen[i]));
            }
            if (c.Profiles.Count == 1 && c.NewKeys.Count > 0)
            {
                if (sql.IsSqlite) await sql.ExecAsync("UPDATE profiles SET identity_count=@p0 WHERE sandbox_id=@p1 AND id=@p2", ct, count, sandbox, pid);
                else counts.Add((pid, count)); // PostgreSQL: one statement per 1,000 profiles below, not a round trip per profile
            }
            if (count > options.MaxIdentitiesPerGraph) overLimit.Add(pid);
        }
        foreach (var slice in counts.Chunk(1000))
            await sql.ExecAsync("""
                UPDATE profiles AS p SET identity_count=u.n FROM unnest(@p0::text[], @p1::int[]) AS u(id, n)
                WHERE p.sandbox_id=@p2 AND p.id=u.id
                """, ct, slice.Select(x => x.Id).ToArray(), slice.Select(x => x.Count).ToArray(), sandbox);
        await newProfiles.FlushAsync(ct);
        await newIdentities.FlushAsync(ct);
        run.IdentitiesAdded += newIdentities.Affected;

        // Records -> profiles; links (star from each record's first identity), de-duplicated per chunk.
        var seenLinks = new HashSet<(string, string)>();
        await using var links = sql.Bulk("profile_links", ["sandbox_id", "from_namespace", "from_value", "to_namespace", "to_value", "profile_id", "dataset_id", "batch_id", "created_at"], "ON CONFLICT DO NOTHING");
        foreach (var rec in records)
        {
            if (rec.Keys.Count == 0) continue;
            rec.ProfileId = rootProfile[Find(index[rec.Keys[0]])];
            for (var j = 1; j < rec.Keys.Count; j++)
            {
                var a = rec.Keys[0];
                var b = rec.Keys[j];
                if (string.CompareOrdinal(a, b) > 0) (a, b) = (b, a);
                if (!seenLinks.Add((a, b))) continue;
                var sa = a.IndexOf(KeySep);
                var sb = b.IndexOf(KeySep);
                await links.AddAsync(ct, sandbox, a[..sa], a[(sa + 1)..], b[..sb], b[(sb + 1)..], rec.ProfileId, run.DatasetId, run.BatchId, sql.Time(rec.Time));
            }
        }
        await links.FlushAsync(ct);

        foreach (var pid in overLimit) await EvictAsync(run, pid, now, ct);
        return recompute;
    }

    private static async Task MergeProfilesAsync(ProfileSql sql, string sandbox, string lose, string keep, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var table in new[] { "profile_identities", "profile_fragments", "profile_events", "profile_links", "profile_evictions", "profile_aliases" })
            await sql.ExecAsync($"UPDATE {table} SET profile_id=@p0 WHERE sandbox_id=@p1 AND profile_id=@p2", ct, keep, sandbox, lose);
        await sql.ExecAsync("INSERT INTO profile_aliases (alias_id, sandbox_id, profile_id, merged_at) VALUES (@p0,@p1,@p2,@p3) ON CONFLICT DO NOTHING", ct, lose, sandbox, keep, sql.Time(now));
        await sql.ExecAsync("DELETE FROM profiles WHERE sandbox_id=@p0 AND id=@p1", ct, sandbox, lose);
    }

    /// <summary>Evicts identities of a graph over the limit: cookie and device identities first, oldest first; then the oldest others.</summary>
    private async Task EvictAsync(StitchRun run, string pid, DateTimeOffset now, CancellationToken ct)
    {
        var sql = run.Sql;
        var all = new List<(string Ns, string Value, DateTimeOffset Seen)>();
        await using (var cmd = sql.Command("SELECT namespace, value, first_seen FROM profile_identities WHERE sandbox_id=@p0 AND profile_id=@p1", run.SandboxId, pid))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) all.Add((r.GetString(0), r.GetString(1), sql.ReadTime(r, 2)));
        var excess = all.Count - options.MaxIdentitiesPerGraph;
        if (excess <= 0) return;
        var victims = all
            .OrderBy(x => run.Namespace(x.Ns).Type is IdentityType.Cookie or IdentityType.Device ? 0 : 1)
            .ThenBy(x => x.Seen).ThenBy(x => x.Ns, StringComparer.Ordinal).ThenBy(x => x.Value, StringComparer.Ordinal)
            .Take(excess).ToList();
        foreach (var v in victims)
        {
            await sql.ExecAsync("DELETE FROM profile_identities WHERE sandbox_id=@p0 AND namespace=@p1 AND value=@p2", ct, run.SandboxId, v.Ns, v.Value);
            await sql.ExecAsync("DELETE FROM profile_links WHERE sandbox_id=@p0 AND profile_id=@p1 AND ((from_namespace=@p2 AND from_value=@p3) OR (to_namespace=@p2 AND to_value=@p3))", ct, run.SandboxId, pid, v.Ns, v.Value);
            await sql.ExecAsync("INSERT INTO profile_evictions (sandbox_id, profile_id, namespace, value, first_seen, evicted_at) VALUES (@p0,@p1,@p2,@p3,@p4,@p5)", ct,
                run.SandboxId, pid, v.Ns, v.Value, sql.Time(v.Seen), sql.Time(now));
        }
        run.IdentitiesEvicted += victims.Count;
        await sql.ExecAsync("UPDATE profiles SET identity_count=@p0, hit_limit=@p1 WHERE sandbox_id=@p2 AND id=@p3", ct, all.Count - victims.Count, true, run.SandboxId, pid);
    }

    private sealed class Component
    {
        public List<int> NewKeys { get; } = [];
        public List<string> Profiles { get; } = [];
    }
}

/// <summary>A record being stitched: its identity keys (namespace <see cref="IdentityStitcher.KeySep"/> value, the primary
/// identity first, people namespaces only) and, once stitched, its profile.</summary>
public class StitchRecord
{
    public List<string> Keys { get; } = new(4);
    public DateTimeOffset Time { get; set; }
    public string? ProfileId { get; set; }
}

/// <summary>One ingestion run as the stitcher sees it: where it writes and what it counts.</summary>
internal abstract class StitchRun(ProfileSql sql, string sandboxId, string datasetId, string batchId)
{
    public ProfileSql Sql => sql;
    public string SandboxId => sandboxId;
    public string DatasetId => datasetId;
    public string BatchId => batchId;
    public long Records, ProfilesCreated, ProfilesMerged, IdentitiesAdded, IdentitiesEvicted, WithoutIdentity;
    /// <summary>Profiles of the current chunk that existed before and changed (identities, merges, attributes).</summary>
    public HashSet<string> Updated { get; } = new(StringComparer.Ordinal);
    /// <summary>Profiles created in the current chunk.</summary>
    public HashSet<string> Created { get; } = new(StringComparer.Ordinal);
    /// <summary>The namespace of a code (type and normalizer).</summary>
    public abstract NamespaceInfo Namespace(string code);
}
