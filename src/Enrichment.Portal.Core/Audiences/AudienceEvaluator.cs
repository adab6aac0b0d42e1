using Enrichment.Portal.Core.ProfileStore;
using System.Data.Common;
using System.Text.Json;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>One evaluation lock per sandbox: full and incremental evaluations (and the change ids they write) never interleave.
/// In-process a semaphore; on PostgreSQL also a session advisory lock, so that the evaluations of every process sharing the
/// catalog (the portal and its <c>--worker</c> processes) take turns too.</summary>
public sealed class AudienceLocks
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> locks = new(StringComparer.Ordinal);

    public async Task<IDisposable> AcquireAsync(string sandboxId, CancellationToken ct)
    {
        var s = locks.GetOrAdd(sandboxId, _ => new SemaphoreSlim(1, 1));
        await s.WaitAsync(ct);
        return new Release(s, null);
    }

    /// <summary>The in-process lock, then (on PostgreSQL) the sandbox's cross-process lock.</summary>
    public async Task<IAsyncDisposable> AcquireAsync(string sandboxId, CatalogDb db, CancellationToken ct)
    {
        var s = locks.GetOrAdd(sandboxId, _ => new SemaphoreSlim(1, 1));
        await s.WaitAsync(ct);
        try { return new Release(s, await AdvisoryLock.AcquireAsync(db, "audiences/" + sandboxId, ct)); }
        catch
        {
            s.Release();
            throw;
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> named = new(StringComparer.Ordinal);

    /// <summary>
    /// A lock by name, held in this process and (on PostgreSQL) across every process sharing the catalog: what makes "check that
    /// no run is queued or running, then enqueue one" atomic (<c>start/destination/&lt;id&gt;</c>, <c>start/audience/&lt;id&gt;</c>), and
    /// what keeps two runs of one destination from overlapping (<c>run/destination/&lt;id&gt;</c>).
    /// </summary>
    public async Task<IAsyncDisposable> AcquireNamedAsync(string name, CatalogDb db, CancellationToken ct)
    {
        var s = named.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await s.WaitAsync(ct);
        try { return new Release(s, await AdvisoryLock.AcquireAsync(db, name, ct)); }
        catch
        {
            s.Release();
            throw;
        }
    }

    private sealed class Release(SemaphoreSlim s, AdvisoryLock? shared) : IDisposable, IAsyncDisposable
    {
        private int done;
        public void Dispose() { if (Interlocked.Exchange(ref done, 1) == 0) s.Release(); }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref done, 1) != 0) return;
            try { if (shared is not null) await shared.DisposeAsync(); }
            finally { s.Release(); }
        }
    }
}

/// <summary>
/// An estimate of a rule's size: exact, or counted on <paramref name="Sampled"/> profiles and scaled to the sandbox, the true
/// size within <paramref name="Size"/> ± <paramref name="Margin"/> with 95 % confidence.
/// </summary>
public sealed record RuleEstimate(long Size, long Total, IReadOnlyList<string> Sample, bool Exact, long Margin, long Sampled);

/// <summary>Settings of audiences (section <c>Audiences</c>).</summary>
public sealed class AudienceOptions
{
    /// <summary>Sandboxes up to this many profiles get an exact estimate; larger ones a sampled one.</summary>
    public long ExactEstimateBelow { get; set; } = 250_000;

    /// <summary>About how many profiles a sampled estimate counts the rule on.</summary>
    public long EstimateSample { get; set; } = 40_000;
}

/// <summary>What an evaluation changed.</summary>
public sealed record EvaluationResult(long Size, long Entered, long Exited, TimeSpan Elapsed);

/// <summary>
/// Evaluates audience rules in the profile store with set-based SQL (<see cref="RuleSql"/>): a full evaluation walks the
/// sandbox's profiles in id ranges (one transaction each: progress and cancellation between ranges); an incremental one
/// covers given profile ids. Each range writes the entered / exited <see cref="AudienceChange"/>s first, then applies them
/// to <see cref="AudienceMember"/>; works in the current sandbox.
/// </summary>
public sealed class AudienceEvaluator(CatalogDb db, AudienceLocks locks, TimeProvider clock, Microsoft.Extensions.Options.IOptions<AudienceOptions>? options = null)
{
    public const int RangeSize = 50_000;

    /// <summary>Tests: the catalog to check rules against instead of the sandbox's.</summary>
    internal RuleCatalog? FixedCatalog { get; init; }
    private string Sandbox => db.Sandbox.Require();
    private bool IsSqlite => db.Database.ProviderName?.Contains("Sqlite", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>What rules of this sandbox may name (schemas of profile-enabled datasets, insight models, namespaces, audiences).</summary>
    public async Task<RuleCatalog> CatalogAsync(CancellationToken ct)
    {
        if (FixedCatalog is not null) return FixedCatalog;
        var catalog = new RuleCatalog();
        foreach (var d in await new LakeCatalog(db, Microsoft.Extensions.Options.Options.Create(new PortalOptions())).ListAsync(ct))
            if (d.ProfileEnabled && !LakeCatalog.IsSnapshot(d)) catalog.AddSchema(d.Schema);
        foreach (var m in await db.Set<Model>().AsNoTracking().Select(m => m.Name).ToListAsync(ct)) catalog.InsightModels.Add(m);
        foreach (var d in await db.Set<Datasets.Dataset>().AsNoTracking().Where(d => d.DeletedAt == null && d.Name.StartsWith(InsightImportService.DatasetPrefix)).Select(d => d.Name).ToListAsync(ct))
            catalog.InsightModels.Add(d[InsightImportService.DatasetPrefix.Length..]);
        foreach (var n in BuiltInNamespaces.All) catalog.Namespaces.Add(n.Code);
        foreach (var n in await db.Set<IdentityNamespace>().AsNoTracking().Select(n => n.Code).ToListAsync(ct)) catalog.Namespaces.Add(n);
        foreach (var a in await db.Set<Audience>().AsNoTracking().Select(a => new { a.Id, a.Name, a.RuleJson }).ToListAsync(ct))
        {
            catalog.AudienceNames[a.Id] = a.Name;
            IReadOnlyList<string> refs;
            try { refs = RuleParser.Memberships(RuleParser.Parse(a.RuleJson)).ToList(); }
            catch (CatalogException) { refs = []; }
            catalog.Audiences[a.Id] = refs;
        }
        return catalog;
    }

    /// <summary>Parses and checks a rule (422 naming the part at fault).</summary>
    public async Task<Compiled> CompileAsync(string ruleJson, string? selfId, CancellationToken ct) =>
        RuleCompiler.Compile(RuleParser.Parse(ruleJson), await CatalogAsync(ct), selfId);

    private async Task<ProfileSql> OpenAsync(CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        return new ProfileSql(db.Database.GetDbConnection(), IsSqlite);
    }

    /// <summary>
    /// How many profiles match (the estimate), of how many, and a few of them. Up to <see cref="AudienceOptions.ExactEstimateBelow"/>
    /// profiles the count is exact; above, the rule is counted on a fixed sample of about
    /// <see cref="AudienceOptions.EstimateSample"/> profiles (those whose id ends below a bound: the end of a profile id is
    /// random) and scaled to the sandbox, with the 95 % margin of that estimate, so the rule builder answers within a second
    /// at millions of profiles. The saved audience's evaluation is always exact.
    /// </summary>
    public async Task<RuleEstimate> EstimateAsync(Compiled rule, int sample, CancellationToken ct, MergePolicy? policy = null)
    {
        var sql = await OpenAsync(ct);
        try
        {
            var now = clock.GetUtcNow();
            var total = await sql.ScalarLongAsync("SELECT COUNT(*) FROM profiles WHERE sandbox_id=@p0", ct, Sandbox);
            var o = options?.Value ?? new AudienceOptions();
            if (total > Math.Max(o.ExactEstimateBelow, o.EstimateSample) && await SampledAsync(sql, rule, sample, now, total, o.EstimateSample, policy, ct) is { } sampled)
                return sampled;

            var args = new List<object?>();
            var t = new RuleSql(sql.IsSqlite, args, Sandbox, now, policy);
            var where = t.Where(rule);
            var size = await sql.ScalarLongAsync($"SELECT COUNT(*) FROM {t.From()} WHERE {where}", ct, args.ToArray());
            var ids = size > 0 ? await SampleIdsAsync(sql, t.From(), where, args, sample, ct) : [];
            return new(size, total, ids, true, 0, total);
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    private static async Task<List<string>> SampleIdsAsync(ProfileSql sql, string from, string where, List<object?> args, int sample, CancellationToken ct)
    {
        var ids = new List<string>();
        if (sample <= 0) return ids;
        await using var cmd = sql.Command($"SELECT p.id FROM {from} WHERE {where} ORDER BY p.id LIMIT {Math.Clamp(sample, 1, 100)}", args.ToArray());
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) ids.Add(r.GetString(0));
        return ids;
    }

    /// <summary>
    /// The sampled estimate: the profiles whose id ends below a bound (the last characters of a profile id are random
    /// Crockford base32, <see cref="Ids"/>), the bound chosen for about <paramref name="target"/> of them; one scan counts the
    /// sample and the rule's matches in it, which are scaled to the sandbox. Null when the sample turns out far smaller than
    /// planned (ids not made by the portal) or covers most of the sandbox: then the count is exact.
    /// </summary>
    private async Task<RuleEstimate?> SampledAsync(ProfileSql sql, Compiled rule, int sample, DateTimeOffset now, long total, long target, MergePolicy? policy, CancellationToken ct)
    {
        const string alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        var tail = total > 16L * target ? 2 : 1;
        var groups = tail == 1 ? 32 : 1024;
        var take = (int)Math.Clamp((long)Math.Ceiling((double)target * groups / total), 1, groups);
        if (take * 2 > groups) return null;
        var bound = tail == 1 ? alphabet[take].ToString() : $"{alphabet[take / 32]}{alphabet[take % 32]}";

        var args = new List<object?>();
        var t = new RuleSql(sql.IsSqlite, args, Sandbox, now, policy);
        var where = t.Where(rule);
        var inSample = (sql.IsSqlite ? $"substr(p.id,-{tail})" : $"right(p.id,{tail}) COLLATE \"C\"") + $"<{t.Param(bound)}";
        long sampled, matched;
        await using (var cmd = sql.Command($"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {where} THEN 1 ELSE 0 END),0) FROM {t.From()} WHERE {inSample}", args.ToArray()))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            sampled = r.GetInt64(0);
            matched = Convert.ToInt64(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
        }
        if (sampled < target / 4 || sampled > total / 2) return null;
        var ids = matched > 0 ? await SampleIdsAsync(sql, t.From(), $"{inSample} AND {where}", args, sample, ct) : [];
        // The share in the sample, scaled; its 95 % margin from the binomial standard error with the finite-population
        // correction (no match in the sample: the "rule of three" upper bound).
        var share = (double)matched / sampled;
        var fpc = Math.Sqrt(Math.Max(0, 1 - (double)sampled / total));
        var margin = matched == 0 ? 3.0 / sampled : 1.96 * Math.Sqrt(share * (1 - share) / sampled) * fpc;
        return new((long)Math.Round(share * total), total, ids, false, (long)Math.Ceiling(margin * total), sampled);
    }

    /// <summary>The ids of the profiles a rule matches (tests and exports of unsaved rules), in id order.</summary>
    public async Task<List<string>> MatchAsync(Compiled rule, CancellationToken ct, MergePolicy? policy = null)
    {
        var sql = await OpenAsync(ct);
        try
        {
            var args = new List<object?>();
            var t = new RuleSql(sql.IsSqlite, args, Sandbox, clock.GetUtcNow(), policy);
            var ids = new List<string>();
            await using var cmd = sql.Command($"SELECT p.id FROM {t.From()} WHERE {t.Where(rule)} ORDER BY p.id", args.ToArray());
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) ids.Add(r.GetString(0));
            return ids;
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    /// <summary>Full evaluation of one audience over every profile of the sandbox.</summary>
    public async Task<EvaluationResult> EvaluateFullAsync(Audience audience, IProgress<(double, string?)>? progress, CancellationToken ct)
    {
        var rule = await CompileAsync(audience.RuleJson, audience.Id, ct);
        var policy = await PolicyAsync(audience.MergePolicyId, ct);
        await using var _ = await locks.AcquireAsync(Sandbox, db, ct);
        var started = clock.GetUtcNow();
        var sql = await OpenAsync(ct);
        try
        {
            var total = Math.Max(1, await sql.ScalarLongAsync("SELECT COUNT(*) FROM profiles WHERE sandbox_id=@p0", ct, Sandbox));
            long entered = 0, exited = 0, done = 0;
            string lo = "";
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                await using var next = sql.Command($"SELECT id FROM profiles WHERE sandbox_id=@p0 AND id>@p1 ORDER BY id LIMIT 1 OFFSET {RangeSize - 1}", Sandbox, lo);
                var hi = await next.ExecuteScalarAsync(ct) as string;
                var (e, x) = await ApplyAsync(sql, audience.Id, rule, Scope.Range(lo, hi), started, ct, policy);
                entered += e;
                exited += x;
                done += RangeSize;
                progress?.Report((Math.Min(0.99, (double)done / total), $"{Math.Min(done, total):N0} of {total:N0} profiles, {entered:N0} entered, {exited:N0} exited"));
                if (hi is null) break;
                lo = hi;
            }
            return await FinishAsync(sql, audience.Id, entered, exited, "full", started, ct);
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    /// <summary>
    /// Incremental evaluation of every audience of the sandbox for the given (changed) profiles, audiences that others
    /// refer to first. Profiles merged into the changed ones leave their audiences.
    /// </summary>
    public async Task<EvaluationResult> EvaluateProfilesAsync(IReadOnlyCollection<string> profileIds, string kind, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var audiences = await db.Set<Audience>().AsNoTracking().Where(a => a.Status != AudienceStatus.New).ToListAsync(ct);
        if (audiences.Count == 0 || profileIds.Count == 0) return new(0, 0, 0, TimeSpan.Zero);
        var catalog = await CatalogAsync(ct);
        var compiled = new Dictionary<string, Compiled>(StringComparer.Ordinal);
        var policies = new Dictionary<string, MergePolicy?>(StringComparer.Ordinal);
        foreach (var a in audiences)
        {
            try
            {
                compiled[a.Id] = RuleCompiler.Compile(RuleParser.Parse(a.RuleJson), catalog);
                policies[a.Id] = await PolicyAsync(a.MergePolicyId, ct);
            }
            catch (CatalogException) { compiled.Remove(a.Id); /* a rule that no longer fits the schema: its audience keeps its members until it is fixed */ }
        }
        await using var _ = await locks.AcquireAsync(Sandbox, db, ct);
        var sql = await OpenAsync(ct);
        try
        {
            // The changed profiles and the ids merged into them.
            var ids = new HashSet<string>(profileIds, StringComparer.Ordinal);
            await sql.ForEachInAsync("SELECT alias_id FROM profile_aliases WHERE sandbox_id=@p0 AND profile_id IN ({in})", [Sandbox], profileIds.ToList(),
                r => ids.Add(r.GetString(0)), ct);
            var list = ids.Order(StringComparer.Ordinal).ToList();
            long entered = 0, exited = 0;
            foreach (var a in Ordered(audiences.Where(a => compiled.ContainsKey(a.Id)).ToList(), catalog))
            {
                long e = 0, x = 0;
                for (var off = 0; off < list.Count; off += 5000)
                {
                    var (de, dx) = await ApplyAsync(sql, a.Id, compiled[a.Id], Scope.Of(list.GetRange(off, Math.Min(5000, list.Count - off))), started, ct, policies[a.Id]);
                    e += de;
                    x += dx;
                }
                if (e + x > 0) await FinishAsync(sql, a.Id, e, x, kind, started, ct);
                entered += e;
                exited += x;
            }
            return new(0, entered, exited, clock.GetUtcNow() - started);
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    /// <summary>Audiences in an order where the ones a rule refers to come before it.</summary>
    private static IEnumerable<Audience> Ordered(List<Audience> audiences, RuleCatalog catalog)
    {
        var byId = audiences.ToDictionary(a => a.Id, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<Audience>();
        void Visit(string id, int depth)
        {
            if (depth > 64 || done.Contains(id) || !byId.TryGetValue(id, out var a)) return;
            foreach (var r in catalog.Audiences.GetValueOrDefault(id) ?? []) Visit(r, depth + 1);
            if (done.Add(id)) order.Add(a);
        }
        foreach (var a in audiences) Visit(a.Id, 0);
        return order;
    }

    /// <summary>Which profiles one step covers: an id range (lo, hi] (hi null: to the end) or a list.</summary>
    private sealed record Scope(string? Lo, string? Hi, IReadOnlyList<string>? Ids)
    {
        public static Scope Range(string lo, string? hi) => new(lo, hi, null);
        public static Scope Of(IReadOnlyList<string> ids) => new(null, null, ids);

        public string Sql(string column, RuleSql t, bool sqlite)
        {
            if (Ids is not null)
                return sqlite ? $"{column} IN (SELECT value FROM json_each({t.Param(JsonSerializer.Serialize(Ids))}))" : $"{column} = ANY({t.Param(Ids.ToArray())})";
            var s = $"{column}>{t.Param(Lo)}";
            return Hi is null ? s : $"{s} AND {column}<={t.Param(Hi)}";
        }
    }

    /// <summary>The merge policy an audience names (null: the default, materialized); 422 when it is not one of the sandbox's.</summary>
    public async Task<MergePolicy?> PolicyAsync(string? mergePolicyId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(mergePolicyId)) return null;
        return await new MergePolicyService(db).FindAsync(Sandbox, mergePolicyId, ct)
               ?? throw CatalogException.Rule($"mergePolicyId: no merge policy {mergePolicyId} in this sandbox.",
                   new Dictionary<string, string[]> { ["mergePolicyId"] = [$"No merge policy {mergePolicyId} in this sandbox (GET /api/v1/merge-policies)."] });
    }

    private async Task<(long Entered, long Exited)> ApplyAsync(ProfileSql sql, string audienceId, Compiled rule, Scope scope, DateTimeOffset now, CancellationToken ct, MergePolicy? policy = null)
    {
        await using var tx = await sql.Connection.BeginTransactionAsync(ct);
        sql.Transaction = tx;
        try
        {
            var mark = await sql.ScalarLongAsync("SELECT COALESCE(MAX(id),0) FROM audience_changes", ct);
            var at = sql.Time(now);

            var args = new List<object?>();
            var t = new RuleSql(sql.IsSqlite, args, Sandbox, now, policy);
            var enter = $"INSERT INTO audience_changes (sandbox_id, audience_id, profile_id, entered, at) " +
                        $"SELECT {t.SandboxParam}, {t.Param(audienceId)}, p.id, {t.Param(true)}, {t.Param(at)} FROM {t.From()} " +
                        $"WHERE {scope.Sql("p.id", t, sql.IsSqlite)} AND {t.Where(rule)} " +
                        $"AND NOT EXISTS (SELECT 1 FROM audience_members m WHERE m.audience_id={t.Param(audienceId)} AND m.profile_id=p.id)";
            var entered = await sql.ExecAsync(enter, ct, args.ToArray());

            args = [];
            t = new RuleSql(sql.IsSqlite, args, Sandbox, now, policy);
            var aid = t.Param(audienceId);
            var exit = $"INSERT INTO audience_changes (sandbox_id, audience_id, profile_id, entered, at) " +
                       $"SELECT {t.SandboxParam}, {aid}, m.profile_id, {t.Param(false)}, {t.Param(at)} FROM audience_members m " +
                       $"WHERE m.audience_id={aid} AND {scope.Sql("m.profile_id", t, sql.IsSqlite)} " +
                       $"AND NOT EXISTS (SELECT 1 FROM {t.From()} WHERE p.id=m.profile_id AND {t.Where(rule)})";
            var exited = await sql.ExecAsync(exit, ct, args.ToArray());

            if (entered > 0)
                await sql.ExecAsync("INSERT INTO audience_members (sandbox_id, audience_id, profile_id, since) " +
                                    "SELECT sandbox_id, audience_id, profile_id, at FROM audience_changes WHERE audience_id=@p0 AND id>@p1 AND entered=@p2", ct, audienceId, mark, true);
            if (exited > 0)
                await sql.ExecAsync("DELETE FROM audience_members WHERE audience_id=@p0 AND profile_id IN " +
                                    "(SELECT profile_id FROM audience_changes WHERE audience_id=@p0 AND id>@p1 AND entered=@p2)", ct, audienceId, mark, false);
            await tx.CommitAsync(ct);
            return (entered, exited);
        }
        catch
        {
            await tx.RollbackAsync(CancellationToken.None);
            throw;
        }
        finally { sql.Transaction = null; }
    }

    private async Task<EvaluationResult> FinishAsync(ProfileSql sql, string audienceId, long entered, long exited, string kind, DateTimeOffset started, CancellationToken ct)
    {
        var size = await sql.ScalarLongAsync("SELECT COUNT(*) FROM audience_members WHERE audience_id=@p0", ct, audienceId);
        var now = clock.GetUtcNow();
        db.Add(new AudienceSizePoint { AudienceId = audienceId, At = now, Size = size, Entered = entered, Exited = exited, Kind = kind });
        await db.SaveChangesAsync(ct);
        await db.Set<Audience>().Where(a => a.Id == audienceId).ExecuteUpdateAsync(s => s.SetProperty(a => a.Size, size)
            .SetProperty(a => a.EvaluatedAt, now).SetProperty(a => a.Status, AudienceStatus.Ready).SetProperty(a => a.Error, (string?)null), ct);
        return new(size, entered, exited, now - started);
    }
}
