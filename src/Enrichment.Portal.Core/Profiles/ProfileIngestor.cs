using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>
/// Runs the identity and profile stages of a profile-enabled dataset: streams the records of a batch (Parquet, read with
/// DuckDB) or a few streamed records, links their identities into the graph, writes fragments (profile datasets) or
/// events (event datasets) and updates the materialized merged profiles of the default merge policy. Works in chunks,
/// one transaction each, with bulk statements and a per-chunk identity cache. Idempotent: re-running a batch changes
/// nothing. Chunks of one sandbox run one at a time (<see cref="ProfileStoreLocks"/>): pass the process's shared
/// instance, or ingestors of the same sandbox running at once may race on new identities (null: a private lock).
/// </summary>
public sealed class ProfileIngestor(CatalogDb db, ProfileStoreOptions? options = null, ProfileStoreLocks? locks = null)
{
    private readonly ProfileStoreOptions options = options ?? new ProfileStoreOptions();
    private readonly ProfileStoreLocks locks = locks ?? new ProfileStoreLocks();
    internal const char KeySep = '\u001f';

    /// <summary>Applies one accepted batch (its Parquet files) to the identity graph and the profile store.</summary>
    public async Task<ProfileIngestResult> ApplyBatchAsync(ProfileBatch batch, IProgress<ProfileIngestProgress>? progress = null, CancellationToken ct = default)
    {
        var run = await StartAsync(batch.SandboxId, batch.DatasetId, batch.BatchId, batch.Schema, batch.Namespaces, batch.BatchTime, ct);
        try
        {
            using var duck = new DuckDBConnection("DataSource=:memory:");
            await duck.OpenAsync(ct);
            var chunk = new List<StitchRecord>(options.ChunkSize);
            for (var fileIndex = 0; fileIndex < batch.ParquetFiles.Count; fileIndex++)
            {
                await using var cmd = duck.CreateCommand();
                cmd.CommandText = $"SELECT * FROM read_parquet('{batch.ParquetFiles[fileIndex].Replace("'", "''", StringComparison.Ordinal)}')";
                run.Identity.Start();
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                var columns = new ColumnMap[reader.FieldCount];
                for (var i = 0; i < columns.Length; i++) columns[i] = run.Column(reader.GetName(i));
                var values = new object?[columns.Length];
                long row = 0;
                while (await reader.ReadAsync(ct))
                {
                    for (var i = 0; i < values.Length; i++)
                        values[i] = columns[i].Field is null || reader.IsDBNull(i) ? null : reader.GetValue(i);
                    chunk.Add(run.ToRecord(columns, values, ((long)fileIndex << 40) | row++));
                    if (chunk.Count >= options.ChunkSize)
                    {
                        run.Identity.Stop();
                        await ProcessChunkAsync(run, chunk, ct);
                        chunk.Clear();
                        progress?.Report(new ProfileIngestProgress(run.Records, run.ProfilesCreated));
                        run.Identity.Start();
                    }
                }
                run.Identity.Stop();
            }
            if (chunk.Count > 0) await ProcessChunkAsync(run, chunk, ct);
            progress?.Report(new ProfileIngestProgress(run.Records, run.ProfilesCreated));
            return run.Result();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Applies a few streamed records (values by dotted path); events are keyed by a hash of their content.</summary>
    public async Task<ProfileIngestResult> ApplyRecordsAsync(ProfileRecordBatch batch, CancellationToken ct = default)
    {
        var run = await StartAsync(batch.SandboxId, batch.DatasetId, batch.BatchId, batch.Schema, batch.Namespaces, batch.ReceivedAt, ct);
        try
        {
            var fields = batch.Schema.Fields;
            var columns = fields.Select(f => run.Column(f.Path)).ToArray();
            var chunk = new List<StitchRecord>();
            foreach (var rec in batch.Records)
            {
                run.Identity.Start();
                var values = new object?[fields.Count];
                for (var i = 0; i < fields.Count; i++) values[i] = rec.TryGetValue(fields[i].Path, out var v) ? v : null;
                chunk.Add(run.ToRecord(columns, values, ContentHash(rec)));
                run.Identity.Stop();
                if (chunk.Count >= options.ChunkSize) { await ProcessChunkAsync(run, chunk, ct); chunk.Clear(); }
            }
            if (chunk.Count > 0) await ProcessChunkAsync(run, chunk, ct);
            return run.Result();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Recomputes the materialized merged attributes of every profile of the sandbox with its default policy
    /// (after the default policy changed). Returns the number of profiles whose attributes changed.</summary>
    public async Task<long> RematerializeAsync(string sandboxId, CancellationToken ct = default)
    {
        var policy = await new MergePolicyService(db).GetDefaultAsync(sandboxId, ct);
        var sql = await ProfileSql.OpenAsync(db, ct);
        try
        {
            long changed = 0;
            var last = "";
            while (true)
            {
                var ids = new List<string>();
                await using (var cmd = sql.Command("SELECT id FROM profiles WHERE sandbox_id=@p0 AND id>@p1 ORDER BY id LIMIT 2000", sandboxId, last))
                await using (var r = await cmd.ExecuteReaderAsync(ct))
                    while (await r.ReadAsync(ct)) ids.Add(r.GetString(0));
                if (ids.Count == 0) break;
                last = ids[^1];
                changed += await RematerializeChunkAsync(sql, sandboxId, ids, policy, ct);
            }
            return changed;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Recomputes the materialized merged attributes of the given profiles (after some of their fragments were removed).
    /// Returns the number of profiles whose attributes changed.</summary>
    public async Task<long> RematerializeProfilesAsync(string sandboxId, IReadOnlyList<string> profileIds, CancellationToken ct = default)
    {
        var policy = await new MergePolicyService(db).GetDefaultAsync(sandboxId, ct);
        var sql = await ProfileSql.OpenAsync(db, ct);
        try
        {
            long changed = 0;
            foreach (var ids in profileIds.Distinct(StringComparer.Ordinal).Chunk(2000))
            {
                changed += await RematerializeChunkAsync(sql, sandboxId, ids, policy, ct);
            }
            return changed;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Re-merges one chunk of profiles in its own locked transaction; returns how many changed.</summary>
    private async Task<int> RematerializeChunkAsync(ProfileSql sql, string sandboxId, IReadOnlyList<string> ids, MergePolicy policy, CancellationToken ct)
    {
        using var held = await locks.AcquireAsync(sandboxId, ct);
        await using var tx = await BeginLockedAsync(sql, sandboxId, ct);
        var frags = await LoadFragmentsAsync(sql, sandboxId, ids, ct);
        var changed = (await MaterializeAsync(sql, sandboxId, ids, frags, policy, DateTimeOffset.UtcNow, ct)).Count;
        await tx.CommitAsync(ct);
        sql.Transaction = null;
        return changed;
    }

    private async Task<Run> StartAsync(string sandboxId, string datasetId, string batchId, SchemaDefinition schema,
        Func<string, NamespaceInfo?>? namespaces, DateTimeOffset batchTime, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentException.ThrowIfNullOrEmpty(datasetId);
        var policy = await new MergePolicyService(db).GetDefaultAsync(sandboxId, ct);
        var sql = await ProfileSql.OpenAsync(db, ct);
        return new Run(sql, sandboxId, datasetId, batchId, schema, namespaces, batchTime, policy);
    }

    private static long ContentHash(IReadOnlyDictionary<string, object?> rec)
    {
        var o = new JsonObject();
        foreach (var (k, v) in rec.OrderBy(kv => kv.Key, StringComparer.Ordinal)) o[k] = ProfileValues.ToJson(v);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(o.ToJsonString()));
        return BitConverter.ToInt64(hash, 0) & long.MaxValue;
    }

    // ---------------------------------------------------------------- chunk processing

    /// <summary>Begins a chunk transaction (as <see cref="ProfileSql.Transaction"/>); on PostgreSQL it first takes the
    /// sandbox's transaction-level advisory lock, which serializes the chunks of every process sharing the catalog.
    /// The caller holds the in-process lock of the sandbox.</summary>
    internal static async Task<System.Data.Common.DbTransaction> BeginLockedAsync(ProfileSql sql, string sandboxId, CancellationToken ct)
    {
        var tx = await sql.Connection.BeginTransactionAsync(ct);
        sql.Transaction = tx;
        if (!sql.IsSqlite) await sql.ExecAsync("SELECT pg_advisory_xact_lock(@p0)", ct, ProfileStoreLocks.AdvisoryKey(sandboxId));
        return tx;
    }

    private async Task ProcessChunkAsync(Run run, List<StitchRecord> records, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var sql = run.Sql;
        run.Identity.Start();
        using var held = await locks.AcquireAsync(run.SandboxId, ct);
        await using var tx = await BeginLockedAsync(sql, run.SandboxId, ct);
        try
        {
            var recompute = await IdentityStageAsync(run, records, ct);
            run.Identity.Stop();
            run.Profile.Start();
            await ProfileStageAsync(run, records, recompute, ct);
            var t0 = Stopwatch.GetTimestamp();
            await tx.CommitAsync(ct);
            run.Part("commit", t0);
            run.Profile.Stop();
            run.EndChunk();
        }
        finally
        {
            sql.Transaction = null;
            run.Identity.Stop();
            run.Profile.Stop();
        }
    }

    /// <summary>Links the chunk's identities; assigns each record its profile id. Returns the profiles whose merged
    /// attributes must be recomputed (merge survivors).</summary>
    private async Task<HashSet<string>> IdentityStageAsync(Run run, List<StitchRecord> records, CancellationToken ct)
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
                await sql.ExecAsync("UPDATE profiles SET identity_count=@p0 WHERE sandbox_id=@p1 AND id=@p2", ct, count, sandbox, pid);
            if (count > options.MaxIdentitiesPerGraph) overLimit.Add(pid);
        }
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
    private async Task EvictAsync(Run run, string pid, DateTimeOffset now, CancellationToken ct)
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

    private async Task ProfileStageAsync(Run run, List<StitchRecord> records, HashSet<string> recompute, CancellationToken ct)
    {
        var sql = run.Sql;
        var sandbox = run.SandboxId;
        if (run.Schema.Class == SchemaClass.Event)
        {
            await using var events = sql.Bulk("profile_events", ["sandbox_id", "profile_id", "dataset_id", "batch_id", "row_number", "timestamp", "event_type", "fields"],
                "ON CONFLICT (sandbox_id, dataset_id, batch_id, row_number) DO NOTHING");
            foreach (var rec in records)
                if (rec.ProfileId is not null)
                    await events.AddAsync(ct, sandbox, rec.ProfileId, run.DatasetId, run.BatchId, rec.RowNumber, sql.Time(rec.Time), rec.EventType ?? "", rec.Fields ?? "{}");
            await events.FlushAsync(ct);
            run.Events += events.Affected;
        }
        // Profiles whose merged attributes are recomputed from all their fragments: the merge survivors of the identity stage.
        // The other profiles of the chunk's records are patched: only this dataset's units change, so only this dataset's
        // fragments are loaded and its merged values written into the stored profile (see PatchAsync), unless another
        // dataset currently provides one of them, in which case the profile is re-merged in full after all.
        var patch = new List<string>();
        if (run.Schema.Class == SchemaClass.Profile)
        {
            var seen = new HashSet<string>(recompute, StringComparer.Ordinal);
            foreach (var rec in records) if (rec.ProfileId is not null && rec.Units is not null && seen.Add(rec.ProfileId)) patch.Add(rec.ProfileId);
        }
        if (recompute.Count == 0 && patch.Count == 0) return;

        var ids = recompute.ToList();
        var t0 = Stopwatch.GetTimestamp();
        var frags = ids.Count > 0 ? await LoadFragmentsAsync(sql, sandbox, ids, ct) : new(StringComparer.Ordinal);
        if (patch.Count > 0)
            foreach (var (pid, list) in await LoadFragmentsAsync(sql, sandbox, patch, ct, run.DatasetId)) frags[pid] = list;
        t0 = run.Part("load fragments", t0);
        if (run.Schema.Class == SchemaClass.Profile)
        {
            var byKey = new Dictionary<(string, string), FragmentState>();
            foreach (var list in frags.Values) foreach (var f in list) byKey[(f.DatasetId, f.RecordKey)] = f;
            foreach (var rec in records)
            {
                if (rec.ProfileId is null || rec.Units is null) continue;
                var key = (run.DatasetId, rec.Keys[0]);
                if (!byKey.TryGetValue(key, out var f))
                {
                    f = new FragmentState(run.DatasetId, rec.Keys[0], rec.ProfileId, rec.Time, new(StringComparer.Ordinal), null);
                    byKey[key] = f;
                    if (!frags.TryGetValue(rec.ProfileId, out var l)) frags[rec.ProfileId] = l = [];
                    l.Add(f);
                }
                if (rec.Time >= f.WrittenAt)
                {
                    foreach (var (k, v) in rec.Units) f.Attributes[k] = v?.ToJsonString();
                    f.WrittenAt = rec.Time;
                }
                else
                {
                    foreach (var (k, v) in rec.Units) if (!f.Attributes.ContainsKey(k)) f.Attributes[k] = v?.ToJsonString();
                }
                if (f.ProfileId != rec.ProfileId) { f.ProfileId = rec.ProfileId; f.Moved = true; }
                f.Touched = true;
            }
            t0 = run.Part("apply units", t0);
            await using var upsert = sql.Bulk("profile_fragments", ["sandbox_id", "dataset_id", "record_key", "profile_id", "batch_id", "written_at", "attributes"],
                "ON CONFLICT (sandbox_id, dataset_id, record_key) DO UPDATE SET profile_id=excluded.profile_id, batch_id=excluded.batch_id, written_at=excluded.written_at, attributes=excluded.attributes");
            foreach (var f in byKey.Values)
            {
                if (!f.Touched) continue;
                var json = ProfileValues.SerializeRaw(f.Attributes);
                if (json == f.OriginalJson && !f.Moved && f.WrittenAt == f.OriginalWrittenAt) continue;
                await upsert.AddAsync(ct, sandbox, f.DatasetId, f.RecordKey, f.ProfileId, run.BatchId, sql.Time(f.WrittenAt), json);
            }
            await upsert.FlushAsync(ct);
            t0 = run.Part("fragment upserts", t0);
        }
        var now = DateTimeOffset.UtcNow;
        var changed = ids.Count > 0 ? await MaterializeAsync(sql, sandbox, ids, frags, run.Policy, now, ct, run.Part) : [];
        run.MergedInFull += ids.Count;
        if (patch.Count > 0)
        {
            var (patched, remerge) = await PatchAsync(sql, sandbox, run.DatasetId, patch, frags, run.Policy, ct, run.Part);
            changed.AddRange(patched);
            run.Patched += patch.Count - remerge.Count;
            run.MergedInFull += remerge.Count;
            if (remerge.Count > 0)
            {
                // The fragments of this dataset are already written: load every fragment of these profiles as they are now.
                t0 = Stopwatch.GetTimestamp();
                var all = await LoadFragmentsAsync(sql, sandbox, remerge, ct);
                run.Part("load fragments", t0);
                changed.AddRange(await MaterializeAsync(sql, sandbox, remerge, all, run.Policy, now, ct, run.Part));
            }
        }
        foreach (var pid in changed) run.Updated.Add(pid);
    }

    /// <summary>
    /// Writes the merge of <paramref name="datasetId"/>'s fragments into the stored merged profiles, for profiles where only
    /// that dataset's fragments changed, without loading the other datasets' fragments. The result is the full re-merge's:
    /// <list type="bullet">
    /// <item>a path the dataset provides that is currently provided by the same dataset or by none: the dataset's fragments
    /// only gain paths and never get older, so no other fragment can overtake them there;</item>
    /// <item>a path currently provided by another dataset (e.g. the identity field that both a CRM and a scores dataset carry):
    /// the dataset's value wins when the fragment that provides it comes after every other dataset's fragment of the profile in
    /// the policy's merge order, which the fragments' order keys alone decide (dataset, written time, record key; no values
    /// are loaded). Otherwise the profile is returned in <c>Remerge</c> and merged in full;</item>
    /// <item>the other paths do not change.</item>
    /// </list>
    /// The stored text is the full re-merge's too: both write keys in ordinal order.
    /// </summary>
    private static async Task<(List<string> Changed, List<string> Remerge)> PatchAsync(ProfileSql sql, string sandbox, string datasetId,
        IReadOnlyList<string> ids, Dictionary<string, List<FragmentState>> frags, MergePolicy policy, CancellationToken ct, Func<string, long, long> part)
    {
        var changed = new List<string>();
        var remerge = new List<string>();
        // Slices of PatchSlice profiles: read, patch and write each before the next, so that little of a chunk's text is alive
        // at once (the work allocates many short-lived strings; long-lived ones would be promoted and copied by the GC).
        foreach (var slice in ids.Chunk(PatchSlice))
        {
            var t0 = Stopwatch.GetTimestamp();
            var current = new Dictionary<string, (string Attrs, string Prov, DateTimeOffset Updated)>(slice.Length, StringComparer.Ordinal);
            await sql.ForEachInAsync("SELECT id, attributes, provenance, updated_at FROM profiles WHERE sandbox_id=@p0 AND id IN ({in})",
                [sandbox], slice, r => current[r.GetString(0)] = (r.GetString(1), r.GetString(2), sql.ReadTime(r, 3)), ct);
            t0 = part("read profiles", t0);

            var pending = new List<(string Id, List<FragmentState> Own)>(slice.Length);
            foreach (var pid in slice)
            {
                if (!current.ContainsKey(pid)) continue;
                var own = frags.TryGetValue(pid, out var l) ? l.FindAll(f => f.ProfileId == pid && f.DatasetId == datasetId) : [];
                if (own.Count > 0) pending.Add((pid, own));
            }
            // The text work is pure CPU per profile (the connection is idle meanwhile): it runs on every core.
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct };
            var contested = new List<string>?[pending.Count];
            Parallel.For(0, pending.Count, parallel, () => new List<string>(), (i, _, paths) =>
            {
                paths.Clear();
                foreach (var f in pending[i].Own)
                    foreach (var (k, v) in f.Attributes)
                        if (v is not null && !paths.Contains(k)) paths.Add(k);
                contested[i] = ProvenanceText.OtherProviders(current[pending[i].Id].Prov, paths, datasetId);
                return paths;
            }, _ => { });
            t0 = part("merge + serialize", t0);

            // The order keys of the other datasets' fragments of the profiles with contested paths (no attribute values).
            var others = new Dictionary<string, List<(string Dataset, string RecordKey, DateTimeOffset Written)>>(StringComparer.Ordinal);
            var contestedIds = pending.Where((_, i) => contested[i] is not null).Select(x => x.Id).ToList();
            if (contestedIds.Count > 0)
                await sql.ForEachInAsync("SELECT profile_id, dataset_id, record_key, written_at FROM profile_fragments WHERE sandbox_id=@p0 AND profile_id IN ({in}) AND dataset_id<>@p1",
                    [sandbox, datasetId], contestedIds, r =>
                    {
                        var pid = r.GetString(0);
                        if (!others.TryGetValue(pid, out var list)) others[pid] = list = [];
                        list.Add((r.GetString(1), r.GetString(2), sql.ReadTime(r, 3)));
                    }, ct);
            t0 = part("load fragments", t0);

            // null: merge in full; Attrs null: unchanged.
            var outcome = new (string? Attrs, string? Prov, object? Time)?[pending.Count];
            Parallel.For(0, pending.Count, parallel, i =>
            {
                var (pid, own) = pending[i];
                if (contested[i] is { } paths && !WinsContested(own, paths, others.GetValueOrDefault(pid) ?? [], policy)) return;
                var cur = current[pid];
                var mine = AttributeMerger.Merge(own, f => f.DatasetId, f => f.RecordKey, f => f.WrittenAt, f => f.Attributes, policy.Method, policy.DatasetOrder);
                var values = new List<KeyValuePair<string, string>>(mine.Values.Count);
                foreach (var (k, v) in mine.Values) values.Add(KeyValuePair.Create(k, v!));
                values.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                // The stored texts are patched in place (keys in ordinal order); older texts in another order are parsed instead.
                var attrsText = ProfileValues.PatchSorted(cur.Attrs, values);
                var provText = attrsText is null ? null : ProvenanceText.Patch(cur.Prov, values.ConvertAll(kv => kv.Key), datasetId);
                if (attrsText is null || provText is null)
                {
                    var attrs = ProfileValues.ParseRaw(cur.Attrs);
                    var prov = ProvenanceText.Parse(cur.Prov);
                    foreach (var (k, v) in values) { attrs[k] = v; prov[k] = datasetId; }
                    attrsText = ProfileValues.SerializeRawSorted(attrs);
                    provText = ProvenanceText.Write(prov);
                }
                if (attrsText == cur.Attrs && provText == cur.Prov) { outcome[i] = (null, null, null); return; }
                var updated = mine.UpdatedAt is { } u && u > cur.Updated ? u : cur.Updated;
                outcome[i] = (attrsText, provText, sql.Time(updated));
            });
            var rows = new List<(string Id, string Attrs, string Prov, object Time)>(pending.Count);
            for (var i = 0; i < pending.Count; i++)
            {
                if (outcome[i] is not { } o) remerge.Add(pending[i].Id);
                else if (o.Attrs is not null)
                {
                    rows.Add((pending[i].Id, o.Attrs, o.Prov!, o.Time!));
                    changed.Add(pending[i].Id);
                }
            }
            t0 = part("merge + serialize", t0);
            await UpdateProfilesAsync(sql, sandbox, rows, ct);
            part("profile updates", t0);
        }
        return (changed, remerge);
    }

    /// <summary>Profiles patched per read-patch-write round (see PatchAsync).</summary>
    private const int PatchSlice = 1000;

    /// <summary>Whether, for every contested path, the dataset's fragment that provides it (the last of the dataset's fragments
    /// with a value there, in merge order) comes after every fragment of the other datasets in the policy's merge order.</summary>
    private static bool WinsContested(List<FragmentState> own, List<string> contested, List<(string Dataset, string RecordKey, DateTimeOffset Written)> others, MergePolicy policy)
    {
        foreach (var k in contested)
        {
            FragmentState? provider = null;
            foreach (var f in own)
                if (f.Attributes.TryGetValue(k, out var v) && v is not null &&
                    (provider is null || AttributeMerger.CompareOrder(policy.Method, policy.DatasetOrder, provider.DatasetId, provider.WrittenAt, provider.RecordKey, f.DatasetId, f.WrittenAt, f.RecordKey) < 0))
                    provider = f;
            if (provider is null) return false;
            foreach (var o in others)
                if (AttributeMerger.CompareOrder(policy.Method, policy.DatasetOrder, o.Dataset, o.Written, o.RecordKey, provider.DatasetId, provider.WrittenAt, provider.RecordKey) >= 0)
                    return false;
        }
        return true;
    }

    /// <summary>The fragments of the given profiles (only <paramref name="datasetId"/>'s when given), by profile id.</summary>
    private static async Task<Dictionary<string, List<FragmentState>>> LoadFragmentsAsync(ProfileSql sql, string sandbox, IReadOnlyList<string> profileIds,
        CancellationToken ct, string? datasetId = null)
    {
        var frags = new Dictionary<string, List<FragmentState>>(StringComparer.Ordinal);
        await sql.ForEachInAsync(datasetId is null
                ? "SELECT dataset_id, record_key, profile_id, written_at, attributes FROM profile_fragments WHERE sandbox_id=@p0 AND profile_id IN ({in})"
                : "SELECT dataset_id, record_key, profile_id, written_at, attributes FROM profile_fragments WHERE sandbox_id=@p0 AND dataset_id=@p1 AND profile_id IN ({in})",
            datasetId is null ? [sandbox] : [sandbox, datasetId], profileIds, r =>
            {
                var json = r.GetString(4);
                var parsed = ProfileValues.ParseRaw(json);
                var f = new FragmentState(r.GetString(0), r.GetString(1), r.GetString(2), sql.ReadTime(r, 3), parsed, json);
                if (!frags.TryGetValue(f.ProfileId, out var l)) frags[f.ProfileId] = l = [];
                l.Add(f);
            }, ct);
        return frags;
    }

    /// <summary>Writes the default-policy merge of each profile when it changed; returns the changed profile ids.</summary>
    private static async Task<List<string>> MaterializeAsync(ProfileSql sql, string sandbox, IReadOnlyList<string> ids,
        Dictionary<string, List<FragmentState>> frags, MergePolicy policy, DateTimeOffset now, CancellationToken ct, Func<string, long, long>? part = null)
    {
        var t0 = Stopwatch.GetTimestamp();
        var current = new Dictionary<string, (string Attrs, string Prov)>(StringComparer.Ordinal);
        await sql.ForEachInAsync("SELECT id, attributes, provenance FROM profiles WHERE sandbox_id=@p0 AND id IN ({in})",
            [sandbox], ids, r => current[r.GetString(0)] = (r.GetString(1), r.GetString(2)), ct);
        if (part is not null) t0 = part("read profiles", t0);
        var changed = new List<string>();
        var rows = new List<(string Id, string Attrs, string Prov, object Time)>();
        foreach (var pid in ids)
        {
            if (!current.TryGetValue(pid, out var cur)) continue;
            var list = frags.TryGetValue(pid, out var l) ? l.FindAll(f => f.ProfileId == pid) : [];
            var merged = AttributeMerger.Merge(list, f => f.DatasetId, f => f.RecordKey, f => f.WrittenAt, f => f.Attributes, policy.Method, policy.DatasetOrder);
            var attrs = ProfileValues.SerializeRawSorted(merged.Values);
            var prov = ProvenanceText.Write(merged.Provenance);
            if (attrs == cur.Attrs && prov == cur.Prov) continue;
            rows.Add((pid, attrs, prov, sql.Time(merged.UpdatedAt ?? now)));
            changed.Add(pid);
        }
        if (part is not null) t0 = part("merge + serialize", t0);
        await UpdateProfilesAsync(sql, sandbox, rows, ct);
        part?.Invoke("profile updates", t0);
        return changed;
    }

    /// <summary>Writes new merged attributes, provenance and update time of profiles.</summary>
    private static async Task UpdateProfilesAsync(ProfileSql sql, string sandbox, List<(string Id, string Attrs, string Prov, object Time)> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        if (sql.IsSqlite)
        {
            // In-process: one prepared single-row UPDATE per profile is the cheapest form on SQLite.
            await using var update = sql.Command("UPDATE profiles SET attributes=@p0, provenance=@p1, updated_at=@p2 WHERE sandbox_id=@p3 AND id=@p4", "", "", 0L, sandbox, "");
            update.Prepare();
            foreach (var (id, attrs, prov, time) in rows)
            {
                update.Parameters[0].Value = attrs;
                update.Parameters[1].Value = prov;
                update.Parameters[2].Value = time;
                update.Parameters[4].Value = id;
                await update.ExecuteNonQueryAsync(ct);
            }
        }
        else
        {
            // PostgreSQL: one statement per 1,000 profiles (arrays joined with unnest) instead of a round trip per profile.
            foreach (var slice in rows.Chunk(1000))
                await sql.ExecAsync("""
                    UPDATE profiles AS p SET attributes=u.a, provenance=u.v, updated_at=u.t
                    FROM unnest(@p0::text[], @p1::text[], @p2::text[], @p3::timestamptz[]) AS u(id, a, v, t)
                    WHERE p.sandbox_id=@p4 AND p.id=u.id
                    """, ct, slice.Select(x => x.Id).ToArray(), slice.Select(x => x.Attrs).ToArray(), slice.Select(x => x.Prov).ToArray(),
                    slice.Select(x => (DateTimeOffset)x.Time).ToArray(), sandbox);
        }
    }

    // ---------------------------------------------------------------- per-run state

    private sealed class Component
    {
        public List<int> NewKeys { get; } = [];
        public List<string> Profiles { get; } = [];
    }

    /// <summary>A fragment as the profile stage handles it: attribute values kept as raw JSON text (null: JSON null).</summary>
    private sealed class FragmentState(string datasetId, string recordKey, string profileId, DateTimeOffset writtenAt, Dictionary<string, string?> attributes, string? originalJson)
    {
        public string DatasetId { get; } = datasetId;
        public string RecordKey { get; } = recordKey;
        public string ProfileId { get; set; } = profileId;
        public DateTimeOffset WrittenAt { get; set; } = writtenAt;
        public DateTimeOffset? OriginalWrittenAt { get; } = originalJson is null ? null : writtenAt;
        public Dictionary<string, string?> Attributes { get; } = attributes;
        public string? OriginalJson { get; } = originalJson;
        public bool Touched { get; set; }
        public bool Moved { get; set; }
    }

    internal readonly record struct ColumnMap(SchemaField? Field, NamespaceInfo? Namespace);

    internal sealed class StitchRecord
    {
        /// <summary>Identity keys (namespace U+001F value), the primary identity first, people namespaces only.</summary>
        public List<string> Keys { get; } = new(4);
        public DateTimeOffset Time { get; set; }
        public long RowNumber { get; set; }
        public Dictionary<string, JsonNode?>? Units { get; set; }
        public string? EventType { get; set; }
        public string? Fields { get; set; }
        public string? ProfileId { get; set; }
    }

    private sealed class Run(ProfileSql sql, string sandboxId, string datasetId, string batchId, SchemaDefinition schema,
        Func<string, NamespaceInfo?>? namespaces, DateTimeOffset batchTime, MergePolicy policy)
    {
        private readonly Dictionary<string, NamespaceInfo> nsCache = new(StringComparer.OrdinalIgnoreCase);
        private readonly ArrayBufferWriter<byte> buffer = new(1024);
        public ProfileSql Sql => sql;
        public string SandboxId => sandboxId;
        public string DatasetId => datasetId;
        public string BatchId => batchId;
        public SchemaDefinition Schema => schema;
        public MergePolicy Policy => policy;
        public Stopwatch Identity { get; } = new();
        public Stopwatch Profile { get; } = new();
        private readonly Dictionary<string, long> parts = new(StringComparer.Ordinal);

        /// <summary>Adds the time since <paramref name="start"/> to a named part of the profile stage; returns now.</summary>
        public long Part(string name, long start)
        {
            var now = Stopwatch.GetTimestamp();
            parts[name] = parts.GetValueOrDefault(name) + (now - start);
            return now;
        }
        public long Records, ProfilesCreated, ProfilesUpdated, ProfilesMerged, IdentitiesAdded, IdentitiesEvicted, WithoutIdentity, Events, Patched, MergedInFull;
        /// <summary>Profiles of the current chunk that existed before and changed (identities, merges, attributes).</summary>
        public HashSet<string> Updated { get; } = new(StringComparer.Ordinal);
        /// <summary>Profiles created in the current chunk.</summary>
        public HashSet<string> Created { get; } = new(StringComparer.Ordinal);

        public void EndChunk()
        {
            Updated.ExceptWith(Created);
            ProfilesUpdated += Updated.Count;
            Updated.Clear();
            Created.Clear();
        }

        public NamespaceInfo Namespace(string code)
        {
            if (!nsCache.TryGetValue(code, out var info)) nsCache[code] = info = ProfileIdentityNormalizer.Resolve(namespaces, code);
            return info;
        }

        public ColumnMap Column(string name)
        {
            var field = schema.Find(name);
            if (field is null) return default;
            return new ColumnMap(field, field.Identity is { } id ? Namespace(id.Namespace) : null);
        }

        public StitchRecord ToRecord(ColumnMap[] columns, object?[] values, long rowNumber)
        {
            var rec = new StitchRecord { RowNumber = rowNumber, Time = batchTime };
            // Identities: primary first.
            for (var pass = 0; pass < 2; pass++)
                for (var i = 0; i < columns.Length; i++)
                {
                    var c = columns[i];
                    if (c.Namespace is null || (c.Field!.Identity!.Primary ? pass != 0 : pass != 1)) continue;
                    if (c.Namespace.Type == IdentityType.NonPeople) continue;
                    var v = ProfileIdentityNormalizer.Normalize(c.Namespace.Normalizer, ProfileValues.IdentityString(values[i]));
                    if (v is null) continue;
                    var key = c.Namespace.Code + KeySep + v;
                    if (!rec.Keys.Contains(key)) rec.Keys.Add(key);
                }
            for (var i = 0; i < columns.Length; i++)
            {
                var f = columns[i].Field;
                if (f is null || values[i] is null) continue;
                if (f.Path == SchemaDefinition.TimestampField && ProfileValues.ToTime(values[i]) is { } t) rec.Time = t;
                else if (f.Path == SchemaDefinition.EventTypeField && schema.Class == SchemaClass.Event) rec.EventType = Convert.ToString(values[i], System.Globalization.CultureInfo.InvariantCulture);
            }
            if (rec.Keys.Count == 0) return rec;
            if (schema.Class == SchemaClass.Event) rec.Fields = EventJson(columns, values);
            else
            {
                rec.Units = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                for (var i = 0; i < columns.Length; i++)
                    if (columns[i].Field is { } f) ProfileValues.AddUnits(rec.Units, f, values[i]);
            }
            return rec;
        }

        private string EventJson(ColumnMap[] columns, object?[] values)
        {
            buffer.Clear();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                for (var i = 0; i < columns.Length; i++)
                {
                    var f = columns[i].Field;
                    var v = values[i];
                    if (f is null || v is null || f.Path is SchemaDefinition.TimestampField or SchemaDefinition.EventTypeField) continue;
                    switch (v)
                    {
                        case string s: w.WriteString(f.Path, s); break;
                        case long l: w.WriteNumber(f.Path, l); break;
                        case int n: w.WriteNumber(f.Path, n); break;
                        case double d when double.IsFinite(d): w.WriteNumber(f.Path, d); break;
                        case bool b: w.WriteBoolean(f.Path, b); break;
                        default:
                            var node = ProfileValues.ToJson(v);
                            if (node is null) continue;
                            w.WritePropertyName(f.Path);
                            node.WriteTo(w);
                            break;
                    }
                }
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        public ProfileIngestResult Result() => new(Records, ProfilesCreated, ProfilesUpdated, ProfilesMerged, IdentitiesAdded,
            IdentitiesEvicted, WithoutIdentity, Events, Identity.Elapsed, Profile.Elapsed)
        {
            ProfileStageParts = parts.ToDictionary(kv => kv.Key, kv => Stopwatch.GetElapsedTime(0, kv.Value), StringComparer.Ordinal),
            ProfilesPatched = Patched, ProfilesMergedInFull = MergedInFull,
        };
    }
}
