using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// The running job's progress, written to its <see cref="JobRun"/> row (at most twice a second, plus a heartbeat) so
/// that the UI and the API see it live. Scoped: one per job execution.
/// </summary>
public sealed class JobProgress(IDbContextFactory<CatalogDb> factory, TimeProvider clock)
{
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;

    /// <summary>The <see cref="JobRun"/> being executed in this scope (set by the dispatcher).</summary>
    public string? JobRunId { get; internal set; }

    public double Fraction { get; private set; }
    public string? Text { get; private set; }

    public async Task ReportAsync(double fraction, string? text = null, bool force = false, CancellationToken ct = default)
    {
        Fraction = Math.Clamp(fraction, 0, 1);
        Text = text;
        var now = clock.GetUtcNow();
        if (JobRunId is null || (!force && now - _lastWrite < TimeSpan.FromMilliseconds(500))) return;
        _lastWrite = now;
        await using var db = factory.CreateDbContext();
        var f = Fraction;
        await db.Set<JobRun>().IgnoreQueryFilters().Where(r => r.Id == JobRunId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Progress, f).SetProperty(r => r.ProgressText, text).SetProperty(r => r.HeartbeatAt, now), ct);
    }

    /// <summary>An <see cref="IProgress{T}"/> adapter for library code (fire and forget, throttled).</summary>
    public IProgress<(double Fraction, string? Text)> AsProgress(CancellationToken ct = default) =>
        new Progress<(double Fraction, string? Text)>(p => _ = SafeReport(p.Fraction, p.Text, ct));

    private async Task SafeReport(double fraction, string? text, CancellationToken ct)
    {
        try { await ReportAsync(fraction, text, ct: ct); }
        catch (Exception) { /* progress is best effort; the job's own status row is authoritative */ }
    }
}
