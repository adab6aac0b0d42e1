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
        var ordered = new List<string>();
        var seen = new HashSet<string>();
        void Visit(string id)
        {
            if (!seen.Add(id)) return;
            foreach (var u in uses.GetValueOrDefault(id) ?? []) if (relative.Contains(u)) Visit(u);
            ordered.Add(id);
        }
        foreach (var id in relative.Order(StringComparer.Ordinal)) Visit(id);
        return ordered;
    }
}

/// <summary>
/// Daily (<see cref="Cron"/>, a Hangfire recurring job) full evaluation of every audience of every sandbox whose rule has a
/// relative time window (<see cref="AudienceTimeWindows"/>), created by <c>schedule</c>; an audience whose evaluation is
/// still queued or running is skipped.
/// </summary>
public sealed class AudienceRefreshScheduler(CatalogDb db, IServiceScopeFactory scopes, ILogger<AudienceRefreshScheduler> log)
{
    public const string RecurringId = "audience-refresh-daily";
    public const string Cron = "30 0 * * *";

    public async Task<IReadOnlyList<string>> EnqueueRelativeAsync(CancellationToken ct)
    {
        var all = await db.Set<Audience>().IgnoreQueryFilters().AsNoTracking().Select(a => new { a.Id, a.SandboxId, a.RuleJson }).ToListAsync(ct);
        var sandboxOf = all.ToDictionary(a => a.Id, a => a.SandboxId);
        var busy = (await db.Set<JobRun>().IgnoreQueryFilters().AsNoTracking()
            .Where(j => j.Kind == AudienceEvaluationJob.Kind && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running)).Select(j => j.TargetId).ToListAsync(ct)).ToHashSet();
        var started = new List<string>();
        foreach (var id in AudienceTimeWindows.Relative(all.Select(a => (a.Id, a.RuleJson))))
        {
            if (busy.Contains(id)) continue;
            await using var scope = scopes.CreateSandboxScope(sandboxOf[id]);
            try
            {
                await scope.ServiceProvider.GetRequiredService<AudienceService>().EvaluateAsync(id, "schedule", ct);
                started.Add(id);
            }
            catch (CatalogException e) { log.LogWarning("Daily re-evaluation of audience {AudienceId} not started: {Reason}", id, e.Message); }
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
