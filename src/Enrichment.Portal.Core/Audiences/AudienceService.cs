using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>An audience as the API shows it.</summary>
public sealed record AudienceView(string Id, string Name, string? Description, JsonNode? Rule, string Status, long Size,
    DateTimeOffset? EvaluatedAt, string? LastJobRunId, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static AudienceView From(Audience a) => new(a.Id, a.Name, a.Description, JsonNode.Parse(a.RuleJson), a.Status, a.Size,
        a.EvaluatedAt, a.LastJobRunId, a.Error, a.CreatedAt, a.UpdatedAt);
}

/// <summary>The estimate of an unsaved rule: matching profiles, of how many, and a few of them.</summary>
/// <summary>
/// A rule's estimated size. <paramref name="Exact"/> false: counted on <paramref name="Sampled"/> profiles of a large sandbox and
/// scaled, the true size within <paramref name="Size"/> ± <paramref name="Margin"/> (95 %).
/// </summary>
public sealed record AudienceEstimate(long Size, long Total, double Share, IReadOnlyList<string> Sample, long ElapsedMs, IReadOnlyList<AudienceSampleMember>? Members = null,
    bool Exact = true, long Margin = 0, long Sampled = 0)
{
    /// <summary>The share for people: "&lt; 0.1 %" for a tiny non-zero audience (never a misleading "0 %"), else one decimal.</summary>
    public string ShareText => Size > 0 && Share < 0.001 ? "< 0.1 %" : (Share * 100).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " %";
}

/// <summary>A member of a sample with the identity people know them by (<c>namespace: value</c>, the first seen).</summary>
public sealed record AudienceSampleMember(string ProfileId, string? Identity);

/// <summary>An audience a profile is in, since when (the profile's <c>segments</c>).</summary>
public sealed record ProfileSegment(string Id, string Name, DateTimeOffset Since);

public sealed record AudienceMemberView(string ProfileId, DateTimeOffset Since, string? Identity = null);

/// <summary>Audiences (API: segments) of the current sandbox: create, change, estimate, evaluate, members.</summary>
public sealed class AudienceService(CatalogDb db, AudienceEvaluator evaluator, JobScheduler jobs, TimeProvider clock, AudienceLocks locks)
{
    public const int MaxNameLength = 200;

    public Task<List<Audience>> ListAsync(CancellationToken ct = default) =>
        db.Set<Audience>().AsNoTracking().OrderBy(a => a.Name).ToListAsync(ct);

    public Task<Audience?> FindAsync(string id, CancellationToken ct = default) =>
        db.Set<Audience>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);

    public Task<int> CountAsync(CancellationToken ct = default) => db.Set<Audience>().CountAsync(ct);

    private static string RuleText(JsonNode? rule) =>
        rule is null ? throw RuleParser.Bad("rule", "A rule is required, e.g. { \"all\": [ { \"attribute\": \"insights.churn.score\", \"op\": \"gt\", \"value\": 0.7 } ] }.")
            : rule.ToJsonString();

    private static string CheckName(string? name)
    {
        var n = name?.Trim();
        if (string.IsNullOrEmpty(n) || n.Length > MaxNameLength) throw CatalogException.Invalid("name", $"An audience needs a name of 1 to {MaxNameLength} characters.");
        return n;
    }

    /// <summary>Creates an audience (its rule checked: 422 naming the part at fault); it is evaluated by <see cref="EvaluateAsync"/>.</summary>
    public async Task<Audience> CreateAsync(string? name, string? description, JsonNode? rule, string? actor, CancellationToken ct = default, string? mergePolicyId = null)
    {
        var n = CheckName(name);
        var text = RuleText(rule);
        await evaluator.CompileAsync(text, null, ct);
        var policy = await evaluator.PolicyAsync(mergePolicyId, ct);
        if (await db.Set<Audience>().AnyAsync(a => a.Name == n, ct)) throw CatalogException.Conflict($"An audience named '{n}' already exists in this sandbox.");
        var now = clock.GetUtcNow();
        var a = new Audience { Name = n, Description = description?.Trim(), RuleJson = text, MergePolicyId = policy?.Id, CreatedBy = actor, CreatedAt = now, UpdatedAt = now };
        db.Add(a);
        await db.SaveChangesAsync(ct);
        return a;
    }

    /// <summary>Changes the name, description or rule; a changed rule needs a new evaluation.</summary>
    /// <param name="setMergePolicy">Whether the change names the merge policy (<paramref name="mergePolicyId"/> null: back to the default).</param>
    public async Task<Audience> UpdateAsync(string id, string? name, string? description, JsonNode? rule, CancellationToken ct = default,
        bool setMergePolicy = false, string? mergePolicyId = null)
    {
        var a = await db.Set<Audience>().FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw CatalogException.NotFound($"No audience {id} in this sandbox.");
        if (name is not null)
        {
            var n = CheckName(name);
            if (n != a.Name && await db.Set<Audience>().AnyAsync(x => x.Name == n && x.Id != id, ct)) throw CatalogException.Conflict($"An audience named '{n}' already exists in this sandbox.");
            a.Name = n;
        }
        if (description is not null) a.Description = description.Trim();
        if (rule is not null)
        {
            var text = RuleText(rule);
            await evaluator.CompileAsync(text, a.Id, ct);
            a.RuleJson = text;
        }
        if (setMergePolicy) a.MergePolicyId = (await evaluator.PolicyAsync(mergePolicyId, ct))?.Id;
        a.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return a;
    }

    public async Task DeleteAsync(string id, CancellationToken ct = default)
    {
        var a = await db.Set<Audience>().FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw CatalogException.NotFound($"No audience {id} in this sandbox.");
        var catalog = await evaluator.CatalogAsync(ct);
        var users = catalog.Audiences.Where(kv => kv.Key != id && kv.Value.Contains(id)).Select(kv => kv.Key).ToList();
        if (users.Count > 0)
        {
            var names = await db.Set<Audience>().Where(x => users.Contains(x.Id)).Select(x => x.Name).ToListAsync(ct);
            throw CatalogException.Conflict($"The audience is used by the rules of: {string.Join(", ", names)}.");
        }
        await db.Set<AudienceMember>().Where(m => m.AudienceId == id).ExecuteDeleteAsync(ct);
        await db.Set<AudienceSizePoint>().Where(m => m.AudienceId == id).ExecuteDeleteAsync(ct);
        db.Remove(a);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The estimate of a rule that need not be saved (size, share of the sandbox, a sample of members).</summary>
    public async Task<AudienceEstimate> EstimateAsync(JsonNode? rule, int sample = 10, CancellationToken ct = default, string? mergePolicyId = null)
    {
        var started = clock.GetTimestamp();
        var compiled = await evaluator.CompileAsync(RuleText(rule), null, ct);
        var policy = await evaluator.PolicyAsync(mergePolicyId, ct);
        var e = await evaluator.EstimateAsync(compiled, sample, ct, policy);
        var names = await IdentitiesAsync(e.Sample, ct);
        return new AudienceEstimate(e.Size, e.Total, e.Total == 0 ? 0 : (double)e.Size / e.Total, e.Sample, (long)clock.GetElapsedTime(started).TotalMilliseconds,
            e.Sample.Select(i => new AudienceSampleMember(i, names.GetValueOrDefault(i))).ToList(), e.Exact, e.Margin, e.Sampled);
    }

    /// <summary>
    /// The identity each profile is shown by: <c>namespace: value</c> of its first-seen identity (the primary identity of the
    /// record that created the profile, for profiles made by a profile dataset).
    /// </summary>
    public async Task<Dictionary<string, string>> IdentitiesAsync(IReadOnlyCollection<string> profileIds, CancellationToken ct = default)
    {
        if (profileIds.Count == 0) return [];
        var rows = await db.Set<Profiles.ProfileIdentity>().AsNoTracking().Where(i => profileIds.Contains(i.ProfileId))
            .Select(i => new { i.ProfileId, i.Namespace, i.Value, i.FirstSeen }).ToListAsync(ct);
        return rows.GroupBy(r => r.ProfileId).ToDictionary(g => g.Key,
            g => g.OrderBy(r => r.FirstSeen).ThenBy(r => r.Namespace, StringComparer.Ordinal).Select(r => $"{r.Namespace}: {r.Value}").First());
    }

    /// <summary>Starts the full evaluation as a job (<see cref="AudienceEvaluationJob"/>).</summary>
    public async Task<JobRun> EvaluateAsync(string id, string? actor, CancellationToken ct = default)
    {
        var a = await FindAsync(id, ct) ?? throw CatalogException.NotFound($"No audience {id} in this sandbox.");
        await evaluator.CompileAsync(a.RuleJson, a.Id, ct);
        // The check and the enqueue under one lock (in-process and, on PostgreSQL, across processes): of concurrent requests one
        // starts the evaluation, the others get the 409.
        await using var gate = await locks.AcquireNamedAsync("start/audience/" + id, db, ct);
        if (await EvaluationInProgressAsync(id, ct))
            throw CatalogException.Conflict($"An evaluation of the audience '{a.Name}' is queued or running: wait for it to finish (GET /api/v1/jobs).");
        var run = await jobs.EnqueueAsync(AudienceEvaluationJob.Kind, id, actor, ct);
        await db.Set<Audience>().Where(x => x.Id == id).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastJobRunId, run.Id)
            .SetProperty(x => x.Status, x => x.Status == AudienceStatus.New ? AudienceStatus.Evaluating : x.Status), ct);
        return run;
    }

    /// <summary>
    /// Starts the full evaluation of every audience (<see cref="AudienceRefreshJob.All"/>) or of the ones with relative time
    /// windows (<see cref="AudienceRefreshJob.Relative"/>) as one job, in dependency order; 409 while a refresh of the sandbox
    /// is queued or running.
    /// </summary>
    public async Task<JobRun> RefreshAsync(string which, string? actor, CancellationToken ct = default)
    {
        await using var gate = await locks.AcquireNamedAsync("start/audience-refresh/" + db.Sandbox.Require(), db, ct);
        if (await db.Set<JobRun>().AnyAsync(j => j.Kind == AudienceRefreshJob.Kind && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running), ct))
            throw CatalogException.Conflict("An evaluation of the sandbox's audiences is queued or running: wait for it to finish (GET /api/v1/jobs).");
        return await jobs.EnqueueAsync(AudienceRefreshJob.Kind, which, actor, ct);
    }

    /// <summary>Whether an evaluation job of the audience is queued or running.</summary>
    public Task<bool> EvaluationInProgressAsync(string id, CancellationToken ct = default) =>
        db.Set<JobRun>().AnyAsync(j => j.Kind == AudienceEvaluationJob.Kind && j.TargetId == id && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running), ct);

    /// <summary>Current members in profile id order (keyset: <paramref name="after"/>).</summary>
    public async Task<List<AudienceMemberView>> MembersAsync(string id, string? after, int limit, CancellationToken ct = default)
    {
        var q = db.Set<AudienceMember>().AsNoTracking().Where(m => m.AudienceId == id);
        if (!string.IsNullOrEmpty(after)) q = q.Where(m => string.Compare(m.ProfileId, after) > 0);
        var members = await q.OrderBy(m => m.ProfileId).Take(Math.Clamp(limit, 1, 1000)).Select(m => new { m.ProfileId, m.Since }).ToListAsync(ct);
        var names = await IdentitiesAsync(members.Select(m => m.ProfileId).ToList(), ct);
        return members.Select(m => new AudienceMemberView(m.ProfileId, m.Since, names.GetValueOrDefault(m.ProfileId))).ToList();
    }

    /// <summary>Size over time (oldest first, at most <paramref name="points"/>).</summary>
    public async Task<List<AudienceSizePoint>> HistoryAsync(string id, int points = 100, CancellationToken ct = default)
    {
        var rows = await db.Set<AudienceSizePoint>().AsNoTracking().Where(p => p.AudienceId == id).OrderByDescending(p => p.Id).Take(Math.Clamp(points, 1, 1000)).ToListAsync(ct);
        rows.Reverse();
        return rows;
    }

    /// <summary>Membership changes, newest first.</summary>
    public Task<List<AudienceChange>> ChangesAsync(string id, int limit = 100, CancellationToken ct = default) =>
        db.Set<AudienceChange>().AsNoTracking().Where(c => c.AudienceId == id).OrderByDescending(c => c.Id).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(ct);

    /// <summary>The audiences a profile is in, with since when.</summary>
    public async Task<IReadOnlyList<ProfileSegment>> SegmentsOfAsync(string profileId, CancellationToken ct = default) =>
        await (from m in db.Set<AudienceMember>().AsNoTracking()
               join a in db.Set<Audience>().AsNoTracking() on m.AudienceId equals a.Id
               where m.ProfileId == profileId
               orderby a.Name
               select new ProfileSegment(a.Id, a.Name, m.Since)).ToListAsync(ct);
}

/// <summary>Job kind <c>audience-evaluate</c>: the full evaluation of one audience (target: its id).</summary>
public sealed class AudienceEvaluationJob(CatalogDb db, AudienceEvaluator evaluator, JobProgress progress) : IPortalJob
{
    public const string Kind = "audience-evaluate";

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var a = await db.Set<Audience>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == targetId, ct)
                ?? throw new JobFailedException($"No audience {targetId} in this sandbox.");
        await progress.ReportAsync(0, "evaluating " + a.Name, force: true, ct: ct);
        EvaluationResult r;
        try { r = await evaluator.EvaluateFullAsync(a, progress.AsProgress(ct), ct); }
        catch (CatalogException e)
        {
            await db.Set<Audience>().Where(x => x.Id == targetId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, AudienceStatus.Failed).SetProperty(x => x.Error, e.Message), CancellationToken.None);
            throw new JobFailedException(e.Message);
        }
        await progress.ReportAsync(1, $"{r.Size:N0} members ({r.Entered:N0} entered, {r.Exited:N0} exited) in {r.Elapsed.TotalSeconds:0.0} s", force: true, ct: ct);
    }
}

/// <summary>
/// The audiences slot of the ingestion pipeline: after a batch's profile stage (uploads, streaming micro-batches, score
/// batches of a scoring run or an import), the audiences of the sandbox are re-evaluated for the profiles the batch touched
/// (its fragments and events). Recorded as the batch stage <c>audiences</c>. Idempotent: a re-run finds nothing to change.
/// </summary>
public sealed class AudienceStage(CatalogDb db, AudienceEvaluator evaluator, BatchStageRecorder stages, TimeProvider clock) : IAudienceStage
{
    public const string StageName = BatchStages.Audiences;

    public async Task RunAsync(Batch batch, LakeDataset dataset, IReadOnlyList<string> files, CancellationToken ct)
    {
        if (!dataset.ProfileEnabled) return;
        if (!await db.Set<Audience>().AnyAsync(a => a.Status != AudienceStatus.New, ct)) return;
        var started = clock.GetUtcNow();
        var s = db.Sandbox.Require();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        ids.UnionWith(await db.Set<Profiles.ProfileFragment>().AsNoTracking().Where(f => f.SandboxId == s && f.BatchId == batch.Id).Select(f => f.ProfileId).Distinct().ToListAsync(ct));
        ids.UnionWith(await db.Set<Profiles.ProfileEvent>().AsNoTracking().Where(e => e.SandboxId == s && e.DatasetId == dataset.Id && e.BatchId == batch.Id).Select(e => e.ProfileId).Distinct().ToListAsync(ct));
        var r = await evaluator.EvaluateProfilesAsync(ids, "batch", ct);
        await stages.RecordAsync(batch.Id, StageName, BatchStatus.Success, started, clock.GetUtcNow(),
            $"{ids.Count:N0} profiles re-evaluated: {r.Entered:N0} entered, {r.Exited:N0} exited", ct);
    }
}

public static class AudienceServiceCollectionExtensions
{
    /// <summary>Audiences (rules, evaluation job, the pipeline's audiences stage) and destinations.</summary>
    public static IServiceCollection AddAudiences(this IServiceCollection services)
    {
        services.AddSingleton<AudienceLocks>();
        services.AddScoped<AudienceEvaluator>();
        services.AddScoped<AudienceService>();
        services.AddScoped<IAudienceStage, AudienceStage>();
        services.AddPortalJob<AudienceEvaluationJob>(AudienceEvaluationJob.Kind, Auth.Policies.Marketer);
        services.AddPortalJob<AudienceRefreshJob>(AudienceRefreshJob.Kind, Auth.Policies.Marketer);
        services.AddScoped<DestinationService>();
        services.AddScoped<WebhookSender>();
        services.AddHttpClient(WebhookSender.HttpClientName).ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
        {
            // Every connection is checked after DNS resolution (SSRF guard).
            ConnectCallback = (c, ct) => WebhookAddressGuard.ConnectAsync(c.DnsEndPoint, sp.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowPrivateNetworks, ct),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        });
        services.AddOptions<WebhookOptions>().BindConfiguration("Webhooks");
        services.AddOptions<AudienceOptions>().BindConfiguration("Audiences");
        services.AddOptions<DestinationOptions>().BindConfiguration("Destinations");
        services.AddScoped<DestinationScheduler>();
        services.AddScoped<AudienceRefreshScheduler>();
        services.AddScoped<AudienceValueSuggestions>();
        services.AddScoped<IStartupTask, AudienceRefreshStartup>();
        services.AddHostedService<DestinationScheduleService>();
        services.AddPortalJob<DestinationRunJob>(DestinationRunJob.Kind, Auth.Policies.Marketer);
        return services;
    }
}
