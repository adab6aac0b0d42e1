using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.ProfileStore;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Profiles;

// The profile merge of the profile stage: a chunk's fragments patched into the materialized profiles of the default merge
// policy (read, patch, write in slices), contested paths settled by the policy, and full re-merges.
public sealed partial class ProfileIngestor
{
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
}
