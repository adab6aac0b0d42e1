using Enrichment.Portal.Core.ProfileStore;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>One identity of a profile, as the API shows it.</summary>
public sealed record ProfileIdentityView(string Namespace, string Id);

/// <summary>A unified profile: identities, merged attributes (nested), insights and where each value came from.
/// <see cref="MergePolicyId"/> is null when the sandbox's default policy (materialized) was used.</summary>
/// <param name="Provenance">Dotted attribute path (map entries as <c>path.key</c>) -> dataset id of the value.</param>
public sealed record ProfileView(
    string ProfileId, IReadOnlyList<ProfileIdentityView> Identities, JsonObject Attributes, JsonObject Insights,
    IReadOnlyDictionary<string, string> Provenance, DateTimeOffset UpdatedAt, string? MergePolicyId);

/// <summary>An event of a profile.</summary>
public sealed record ProfileEventView(long Id, string DatasetId, DateTimeOffset Timestamp, string EventType, JsonObject Fields);

/// <summary>Profile store counts for the sandbox home and the guardrail panel.</summary>
public sealed record ProfileStats(long Profiles, long Identities, long Events, long GraphsOverLimit);

/// <summary>A node of the identity graph picture.</summary>
public sealed record ProfileGraphNode(string Namespace, string Id, string Type, DateTimeOffset FirstSeen);

/// <summary>An edge: two identities seen in one record of <see cref="DatasetId"/> / <see cref="BatchId"/>.</summary>
public sealed record ProfileGraphEdge(string FromNamespace, string FromId, string ToNamespace, string ToId, string DatasetId, string BatchId, DateTimeOffset At);

/// <summary>The identity graph of one profile, with the identities evicted from it.</summary>
public sealed record ProfileGraph(string ProfileId, IReadOnlyList<ProfileGraphNode> Nodes, IReadOnlyList<ProfileGraphEdge> Edges, IReadOnlyList<ProfileGraphNode> Evicted);

/// <summary>Lookups of the profile store for the current sandbox (<see cref="CatalogDb.Sandbox"/>).</summary>
public sealed class ProfileService(CatalogDb db, Func<string, NamespaceInfo?>? namespaces = null)
{
    private string Sandbox => db.Sandbox.Require();

    /// <summary>The profile that has identity <paramref name="id"/> in <paramref name="namespace"/> (normalized first), or null (404).
    /// <paramref name="mergePolicyId"/> other than the default is computed from the fragments.</summary>
    public async Task<ProfileView?> GetAsync(string @namespace, string id, string? mergePolicyId = null, CancellationToken ct = default)
    {
        if (mergePolicyId is null)
        {
            var info = BuiltInNamespaces.Resolve(namespaces, @namespace);
            var value = IdentityNormalizer.Normalize(info.Normalizer, id);
            return value is null ? null : await LookupMaterializedAsync(info.Code, value, ct);
        }
        var pid = await FindProfileIdAsync(@namespace, id, ct);
        return pid is null ? null : await GetByIdAsync(pid, mergePolicyId, ct);
    }

    /// <summary>
    /// The hot path of a lookup (the API's and the viewer's <c>GET /profiles?namespace=&amp;id=</c> with the default
    /// policy): identity -> profile -> its identities as one statement over three index seeks (the identity's primary
    /// key, the profile's key, the profile's identities by (sandbox, profile)), with the materialized merge, so one
    /// round trip and no EF materialization. The same result as <see cref="GetByIdAsync"/> without a policy.
    /// </summary>
    private async Task<ProfileView?> LookupMaterializedAsync(string ns, string value, CancellationToken ct)
    {
        var s = Sandbox;
        var conn = db.Database.GetDbConnection();
        var opened = conn.State != System.Data.ConnectionState.Open;
        if (opened) await db.Database.OpenConnectionAsync(ct);
        try
        {
            var sql = new ProfileSql(conn, db.Database.ProviderName?.Contains("Sqlite", StringComparison.OrdinalIgnoreCase) == true)
            {
                Transaction = db.Database.CurrentTransaction?.GetDbTransaction(),
            };
            await using var cmd = sql.Command(
                "SELECT p.id, p.attributes, p.provenance, p.updated_at, o.namespace, o.value, o.first_seen " +
                "FROM profile_identities i " +
                "JOIN profiles p ON p.id = i.profile_id AND p.sandbox_id = i.sandbox_id " +
                "JOIN profile_identities o ON o.sandbox_id = i.sandbox_id AND o.profile_id = i.profile_id " +
                "WHERE i.sandbox_id = @p0 AND i.namespace = @p1 AND i.value = @p2", s, ns, value);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            string? pid = null, attributes = null, provenance = null;
            var updated = default(DateTimeOffset);
            var identities = new List<(string Ns, string Value, DateTimeOffset Seen)>(8);
            while (await r.ReadAsync(ct))
            {
                if (pid is null)
                {
                    pid = r.GetString(0);
                    attributes = r.GetString(1);
                    provenance = r.GetString(2);
                    updated = sql.ReadTime(r, 3);
                }
                identities.Add((r.GetString(4), r.GetString(5), sql.ReadTime(r, 6)));
            }
            if (pid is null) return null;
            var (attrs, insights) = Split(ProfileValues.ParseFlat(attributes!));
            return new ProfileView(pid,
                identities.OrderBy(i => i.Seen).ThenBy(i => i.Ns, StringComparer.Ordinal).ThenBy(i => i.Value, StringComparer.Ordinal)
                    .Select(i => new ProfileIdentityView(i.Ns, i.Value)).ToList(),
                attrs, insights, ProvenanceText.Parse(provenance!), updated, null);
        }
        finally
        {
            if (opened) await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The profile id of an identity, or null.</summary>
    public async Task<string?> FindProfileIdAsync(string @namespace, string id, CancellationToken ct = default)
    {
        var info = BuiltInNamespaces.Resolve(namespaces, @namespace);
        var value = IdentityNormalizer.Normalize(info.Normalizer, id);
        if (value is null) return null;
        var s = Sandbox;
        return await db.Set<ProfileIdentity>().IgnoreQueryFilters().AsNoTracking()
            .Where(i => i.SandboxId == s && i.Namespace == info.Code && i.Value == value)
            .Select(i => i.ProfileId).FirstOrDefaultAsync(ct);
    }

    /// <summary>The current id of a profile id (a merged-away id resolves to the profile it was merged into), or null.</summary>
    public async Task<string?> ResolveAsync(string profileId, CancellationToken ct = default)
    {
        var s = Sandbox;
        if (await db.Set<Profile>().IgnoreQueryFilters().AnyAsync(p => p.SandboxId == s && p.Id == profileId, ct)) return profileId;
        return await db.Set<ProfileAlias>().IgnoreQueryFilters().Where(a => a.SandboxId == s && a.AliasId == profileId)
            .Select(a => a.ProfileId).FirstOrDefaultAsync(ct);
    }

    /// <summary>A profile by id (aliases resolve), or null.</summary>
    public async Task<ProfileView?> GetByIdAsync(string profileId, string? mergePolicyId = null, CancellationToken ct = default)
    {
        var s = Sandbox;
        var profile = await db.Set<Profile>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(p => p.SandboxId == s && p.Id == profileId, ct);
        if (profile is null)
        {
            var resolved = await ResolveAsync(profileId, ct);
            if (resolved is null || resolved == profileId) return null;
            profile = await db.Set<Profile>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(p => p.SandboxId == s && p.Id == resolved, ct);
            if (profile is null) return null;
        }
        var pid = profile.Id;
        var identities = await db.Set<ProfileIdentity>().IgnoreQueryFilters().AsNoTracking()
            .Where(i => i.SandboxId == s && i.ProfileId == pid)
            .Select(i => new { i.Namespace, i.Value, i.FirstSeen }).ToListAsync(ct);
        var policy = mergePolicyId is null ? null
            : await new MergePolicyService(db).FindAsync(s, mergePolicyId, ct) ?? throw new KeyNotFoundException($"Merge policy {mergePolicyId} not found.");
        Dictionary<string, JsonNode?> values;
        Dictionary<string, string> provenance;
        var updated = profile.UpdatedAt;
        if (policy is null || policy.IsDefault)
        {
            values = ProfileValues.ParseFlat(profile.Attributes);
            provenance = ProvenanceText.Parse(profile.Provenance);
        }
        else
        {
            var frags = await db.Set<ProfileFragment>().IgnoreQueryFilters().AsNoTracking()
                .Where(f => f.SandboxId == s && f.ProfileId == pid).ToListAsync(ct);
            var merged = AttributeMerger.Merge(frags.Select(f => new FragmentData(f.DatasetId, f.RecordKey, f.WrittenAt, ProfileValues.ParseFlat(f.Attributes))),
                policy.Method, policy.DatasetOrder);
            values = merged.Values;
            provenance = merged.Provenance;
            if (merged.UpdatedAt is { } u) updated = u;
        }
        var (attributes, insights) = Split(values);
        return new ProfileView(pid,
            identities.OrderBy(i => i.FirstSeen).ThenBy(i => i.Namespace, StringComparer.Ordinal).ThenBy(i => i.Value, StringComparer.Ordinal)
                .Select(i => new ProfileIdentityView(i.Namespace, i.Value)).ToList(),
            attributes, insights, provenance, updated, policy?.Id);
    }

    /// <summary>Splits flat merged values into the nested attributes and the <c>insights</c> map.</summary>
    internal static (JsonObject Attributes, JsonObject Insights) Split(Dictionary<string, JsonNode?> values)
    {
        const string prefix = "insights.";
        var attributes = ProfileValues.Nest(values.Where(kv => !kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Key != "insights"));
        // An entry of the insights map is keyed by the whole name (model names may hold '.', e.g. "clv v1.2"); only scalar
        // values under dotted paths (a schema with typed insights.<x>.<y> fields) nest.
        var entries = values.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key[prefix.Length..], kv.Value)).ToList();
        var insights = ProfileValues.Nest(entries.Where(kv => kv.Value is not JsonObject));
        foreach (var (name, value) in entries.Where(kv => kv.Value is JsonObject).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            insights[name] = value!.DeepClone();
        return (attributes, insights);
    }

    /// <summary>Events of a profile, newest first, optionally of one type.</summary>
    public async Task<IReadOnlyList<ProfileEventView>> GetEventsAsync(string profileId, string? eventType = null, int limit = 100, CancellationToken ct = default)
    {
        // Usually a current id: read its events first; only when there are none, resolve a merged-away id.
        var rows = await EventRowsAsync(profileId, eventType, limit, ct);
        if (rows.Count == 0 && await ResolveAsync(profileId, ct) is { } resolved && resolved != profileId)
            rows = await EventRowsAsync(resolved, eventType, limit, ct);
        return rows.Select(e => new ProfileEventView(e.Id, e.DatasetId, e.Timestamp, e.EventType, ProfileValues.Nest(ProfileValues.ParseFlat(e.Fields)))).ToList();
    }

    private Task<List<ProfileEvent>> EventRowsAsync(string pid, string? eventType, int limit, CancellationToken ct)
    {
        var s = Sandbox;
        var q = db.Set<ProfileEvent>().IgnoreQueryFilters().AsNoTracking().Where(e => e.SandboxId == s && e.ProfileId == pid);
        if (!string.IsNullOrEmpty(eventType)) q = q.Where(e => e.EventType == eventType);
        return q.OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id).Take(Math.Clamp(limit, 1, 10_000)).ToListAsync(ct);
    }

    /// <summary>How many events a profile has (for the timeline header).</summary>
    public async Task<int> CountEventsAsync(string profileId, CancellationToken ct = default)
    {
        var s = Sandbox;
        return await db.Set<ProfileEvent>().IgnoreQueryFilters().CountAsync(e => e.SandboxId == s && e.ProfileId == profileId, ct);
    }

    /// <summary>Counts for the sandbox: profiles, identities, events, graphs that hit the identity limit.</summary>
    public async Task<ProfileStats> StatsAsync(CancellationToken ct = default)
    {
        var s = Sandbox;
        var profiles = await db.Set<Profile>().IgnoreQueryFilters().LongCountAsync(p => p.SandboxId == s, ct);
        var identities = await db.Set<ProfileIdentity>().IgnoreQueryFilters().LongCountAsync(p => p.SandboxId == s, ct);
        var events = await db.Set<ProfileEvent>().IgnoreQueryFilters().LongCountAsync(p => p.SandboxId == s, ct);
        var over = await db.Set<Profile>().IgnoreQueryFilters().LongCountAsync(p => p.SandboxId == s && p.HitLimit, ct);
        return new ProfileStats(profiles, identities, events, over);
    }

    /// <summary>The identity graph of a profile: identities as nodes, links as edges (with the dataset and batch that linked them).</summary>
    public async Task<ProfileGraph> GetGraphAsync(string profileId, CancellationToken ct = default)
    {
        var s = Sandbox;
        var pid = await ResolveAsync(profileId, ct) ?? profileId;
        var ids = await db.Set<ProfileIdentity>().IgnoreQueryFilters().AsNoTracking().Where(i => i.SandboxId == s && i.ProfileId == pid).ToListAsync(ct);
        var links = await db.Set<ProfileLink>().IgnoreQueryFilters().AsNoTracking().Where(l => l.SandboxId == s && l.ProfileId == pid).ToListAsync(ct);
        var evicted = await db.Set<IdentityEviction>().IgnoreQueryFilters().AsNoTracking().Where(e => e.SandboxId == s && e.ProfileId == pid).ToListAsync(ct);
        string Type(string ns) => BuiltInNamespaces.Resolve(namespaces, ns).Type.ToString();
        return new ProfileGraph(pid,
            ids.OrderBy(i => i.FirstSeen).Select(i => new ProfileGraphNode(i.Namespace, i.Value, Type(i.Namespace), i.FirstSeen)).ToList(),
            links.Select(l => new ProfileGraphEdge(l.FromNamespace, l.FromValue, l.ToNamespace, l.ToValue, l.DatasetId, l.BatchId, l.CreatedAt)).ToList(),
            evicted.Select(e => new ProfileGraphNode(e.Namespace, e.Value, Type(e.Namespace), e.FirstSeen)).ToList());
    }

    /// <summary>A sample of profile ids (newest first), e.g. for the wizard's "sample of stitched profiles".</summary>
    public async Task<IReadOnlyList<string>> SampleAsync(int count = 10, CancellationToken ct = default)
    {
        var s = Sandbox;
        return await db.Set<Profile>().IgnoreQueryFilters().Where(p => p.SandboxId == s).OrderByDescending(p => p.UpdatedAt)
            .Select(p => p.Id).Take(Math.Clamp(count, 1, 1000)).ToListAsync(ct);
    }
}
