using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Sandboxes;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>
/// Audiences whose membership changes with the passing of time alone: a rule with an event window relative to now
/// (<c>withinDays</c>), or membership of such an audience (transitively). Nothing is ingested when a purchase falls out of
/// "the last 30 days", so these are evaluated again daily (<see cref="AudienceRefreshScheduler"/>).
/// </summary>
public static class AudienceTimeWindows
{
    public static bool HasRelativeWindow(RuleNode node) => node switch
    {
        EventNode e => e.WithinDays is not null,
        GroupNode g => g.Children.Any(HasRelativeWindow),
        NotNode n => HasRelativeWindow(n.Child),
        _ => false,
    };

    private static IEnumerable<string> Memberships(RuleNode node) => node switch
    {
        MembershipNode m => [m.AudienceId],
        GroupNode g => g.Children.SelectMany(Memberships),
        NotNode n => Memberships(n.Child),
        _ => [],
    };

    /// <summary>
    /// The audiences (of <paramref name="rules"/>: id and rule JSON) that move with time, in dependency order (an audience after
    /// the audiences its rule names). Rules that do not parse are left out.
    /// </summary>
    public static IReadOnlyList<string> Relative(IEnumerable<(string Id, string RuleJson)> rules)
    {
        var parsed = new Dictionary<string, RuleNode>();
        foreach (var (id, json) in rules)
            try { parsed[id] = RuleParser.Parse(json); }
            catch (CatalogException) { }
        var uses = parsed.ToDictionary(p => p.Key, p => Memberships(p.Value).Distinct().ToList());
        var relative = parsed.Where(p => HasRelativeWindow(p.Value)).Select(p => p.Key).ToHashSet();
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var (id, used) in uses)
                if (!relative.Contains(id) && used.Any(relative.Contains)) { relative.Add(id); changed = true; }
        }
        return Topological(uses, relative);
    }

    /// <summary>Every audience (of <paramref name="rules"/>) in dependency order; rules that do not parse are left out.</summary>
    public static IReadOnlyList<string> All(IEnumerable<(string Id, string RuleJson)> rules)
    {
        var uses = new Dictionary<string, List<string>>();
        foreach (var (id, json) in rules)
            try { uses[id] = Memberships(RuleParser.Parse(json)).Distinct().ToList(); }
            catch (CatalogException) { }
        return Topological(uses, uses.Keys.ToHashSet());
    }

    /// <summary>
    /// The audiences of <paramref name="include"/> ordered so that each comes after every audience of <paramref name="include"/>
    /// its rule names (directly or through others): depth-first, ties by id. A cycle (refused when rules are saved) cannot
    /// loop: an audience met again while it is being visited is skipped.
    /// </summary>
    private static List<string> Topological(Dictionary<string, List<string>> uses, HashSet<string> include)
    {
        var ordered = new List<string>();
        var seen = new HashSet<string>();
        void Visit(string id)
        {
            if (!seen.Add(id)) return;
            foreach (var u in (uses.GetValueOrDefault(id) ?? []).Order(StringComparer.Ordinal)) if (include.Contains(u)) Visit(u);
            ordered.Add(id);
        }
        foreach (var id in include.Order(StringComparer.Ordinal)) Visit(id);
        return ordered;
    }
}

/// <summary>
/// Job kind <c>audience-refresh</c>: the full evaluation of several audiences of one sandbox, one after the other in dependency
/// order (an audience after the audiences its rule names, so that it reads their new membership). Target <c>all</c> (every
/// audience: <c>POST /segments/evaluate-all</c>) or <c>relative</c> (the ones with a relative time window: the daily refresh).
/// Separate jobs per audience would run in whatever order the workers pick them up.
/// </summary>
public sealed class AudienceRefreshJob(CatalogDb db, AudienceEvaluator evaluator, JobProgress progress) : IPortalJob
{
    public const string Kind = "audience-refresh";
    public const string All = "all";
    public const string Relative = "relative";

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var audiences = await db.Set<Audience>().AsNoTracking().ToListAsync(ct);
        var rules = audiences.Select(a => (a.Id, a.RuleJson)).ToList();
        var order = targetId == Relative ? AudienceTimeWindows.Relative(rules) : AudienceTimeWindows.All(rules);
        var byId = audiences.ToDictionary(a => a.Id);
        if (progress.JobRunId is { } runId)
            await db.Set<Audience>().Where(a => order.Contains(a.Id)).ExecuteUpdateAsync(s => s.SetProperty(a => a.LastJobRunId, runId)
                .SetProperty(a => a.Status, a => a.Status == AudienceStatus.New ? AudienceStatus.Evaluating : a.Status), ct);
        await progress.ReportAsync(0, $"{order.Count} audience(s) to evaluate", force: true, ct: ct);
        var failed = new List<string>();
        for (var i = 0; i < order.Count; i++)
        {
            var a = byId[order[i]];
            var at = i;
            var whole = progress.AsProgress(ct);
            try
            {
                var r = await evaluator.EvaluateFullAsync(a, new InlineProgress(p => whole.Report(((at + p.Item1) / order.Count, $"{a.Name} ({at + 1} of {order.Count}): {p.Item2}"))), ct);
                await progress.ReportAsync((at + 1.0) / order.Count, $"{a.Name} ({at + 1} of {order.Count}): {r.Size:N0} members", force: true, ct: ct);
            }
            catch (CatalogException e)
            {
                // A rule that no longer fits the schema: that audience fails, the others go on (its dependents read its old members).
                failed.Add(a.Name);
                await db.Set<Audience>().Where(x => x.Id == a.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, AudienceStatus.Failed).SetProperty(x => x.Error, e.Message), CancellationToken.None);
            }
        }
        if (failed.Count > 0) throw new JobFailedException($"{order.Count - failed.Count} of {order.Count} audience(s) evaluated; failed: {string.Join(", ", failed)}.");
        await progress.ReportAsync(1, $"{order.Count} audience(s) evaluated in dependency order", force: true, ct: ct);
    }

    private sealed class InlineProgress(Action<(double, string?)> report) : IProgress<(double, string?)>
    {
        public void Report((double, string?) value) => report(value);
    }
}

/// <summary>
/// Daily (<see cref="Cron"/>, a Hangfire recurring job) full evaluation of every audience of every sandbox whose rule has a
/// relative time window (<see cref="AudienceTimeWindows"/>), created by <c>schedule</c>: one <see cref="AudienceRefreshJob"/>
/// per sandbox, which evaluates them in dependency order; a sandbox whose refresh is still queued or running is skipped.
/// </summary>
public sealed class AudienceRefreshScheduler(CatalogDb db, IServiceScopeFactory scopes, ILogger<AudienceRefreshScheduler> log)
{
    public const string RecurringId = "audience-refresh-daily";
    public const string Cron = "30 0 * * *";

    /// <summary>Starts the refresh of each sandbox with relative audiences; returns the ids of the audiences it covers, in order.</summary>
    public async Task<IReadOnlyList<string>> EnqueueRelativeAsync(CancellationToken ct)
    {
        var all = await db.Set<Audience>().IgnoreQueryFilters().AsNoTracking().Select(a => new { a.Id, a.SandboxId, a.RuleJson }).ToListAsync(ct);
        var started = new List<string>();
        foreach (var sandbox in all.GroupBy(a => a.SandboxId).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var relative = AudienceTimeWindows.Relative(sandbox.Select(a => (a.Id, a.RuleJson)));
            if (relative.Count == 0) continue;
            await using var scope = scopes.CreateSandboxScope(sandbox.Key);
            try
            {
                await scope.ServiceProvider.GetRequiredService<AudienceService>().RefreshAsync(AudienceRefreshJob.Relative, "schedule", ct);
                started.AddRange(relative);
            }
            catch (CatalogException e) { log.LogWarning("Daily re-evaluation of the audiences of sandbox {SandboxId} not started: {Reason}", sandbox.Key, e.Message); }
        }
        if (started.Count > 0) log.LogInformation("Daily re-evaluation of {Count} audience(s) with relative time windows", started.Count);
        return started;
    }
}

/// <summary>Registers <see cref="AudienceRefreshScheduler"/> with Hangfire at start.</summary>
public sealed class AudienceRefreshStartup(IRecurringJobManager recurring) : IStartupTask
{
    public Task RunAsync(CancellationToken ct)
    {
        recurring.AddOrUpdate<AudienceRefreshScheduler>(AudienceRefreshScheduler.RecurringId, s => s.EnqueueRelativeAsync(CancellationToken.None),
            AudienceRefreshScheduler.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        return Task.CompletedTask;
    }
}
