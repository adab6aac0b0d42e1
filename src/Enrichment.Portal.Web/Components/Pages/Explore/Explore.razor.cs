using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Pages.Explore;

public partial class Explore
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext SandboxScope { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    [SupplyParameterFromQuery(Name = "dataset")] public string? DatasetQuery { get; set; }
    [SupplyParameterFromQuery(Name = "target")] public string? TargetQuery { get; set; }

    private IReadOnlyList<ExploreSource>? sources;
    private string? datasetId, target, positive, error, filter;
    private StatsReport? report;
    private bool busy, warningsOnly;
    private double progress;
    private string progressText = "";
    private readonly CancellationTokenSource leaving = new();

    private ExploreSource? Selected => sources?.FirstOrDefault(s => s.DatasetId == datasetId);

    /// <summary>
    /// Cards in the order people read them: the target, then by signal to the target (AUC away from 0.5, |correlation|),
    /// then columns with warnings, then by name. Columns without any value get no card (see <see cref="EmptyColumns"/>).
    /// </summary>
    private IEnumerable<ColumnReport> VisibleColumns => Order(Filtered.Where(c => c.NonNull > 0), report?.Target);

    /// <summary>Columns with no value at all: one line instead of a card each.</summary>
    private IReadOnlyList<ColumnReport> EmptyColumns => Filtered.Where(c => c.NonNull == 0).ToList();

    private IEnumerable<ColumnReport> Filtered => (report?.Columns ?? [])
        .Where(c => !warningsOnly || c.Warnings.Count > 0)
        .Where(c => string.IsNullOrWhiteSpace(filter) || c.Name.Contains(filter.Trim(), StringComparison.OrdinalIgnoreCase));

    internal static IEnumerable<ColumnReport> Order(IEnumerable<ColumnReport> columns, string? target) => columns
        .OrderByDescending(c => c.Name == target)
        .ThenByDescending(c => Strength(c))
        .ThenByDescending(c => c.Warnings.Count > 0)
        .ThenBy(c => c.Name, StringComparer.OrdinalIgnoreCase);

    private static double Strength(ColumnReport c) => c.TargetSignal is not { } v || double.IsNaN(v) ? -1
        : c.TargetSignalKind == "auc" ? Math.Abs(v - 0.5) * 2 : Math.Abs(v);

    protected override async Task OnInitializedAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        sources = await scope.ServiceProvider.GetRequiredService<ExplorationService>().SourcesAsync(leaving.Token);
        if (DatasetQuery is not null && sources.Any(s => s.DatasetId == DatasetQuery))
        {
            datasetId = DatasetQuery;
            target = Selected!.Fields.Any(f => f.Path == TargetQuery) ? TargetQuery : null;
        }
    }

    /// <summary>A link with <c>?dataset=&amp;target=</c> opens the statistics at once (interactive only, not while prerendering).</summary>
    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender && datasetId is not null && report is null && !busy) await RunAsync();
    }

    private void OnDatasetChanged(string? value)
    {
        datasetId = value;
        target = null;
        report = null;
        error = null;
    }

    private void OnTargetChanged(string? value) => target = value;

    private static double Share(RankReport r) => r.Kind == "auc" ? Math.Clamp((r.Value - 0.5) * 2, 0, 1) : Math.Clamp(r.Value, 0, 1);

    /// <summary>Cached: shown at once. Small: computed here with live progress. Large: a background job, polled.</summary>
    private async Task RunAsync()
    {
        if (datasetId is null || busy) return;
        busy = true;
        error = null;
        report = null;
        progress = 0;
        progressText = "Looking for cached statistics…";
        StateHasChanged();
        var ct = leaving.Token;
        try
        {
            var link = Navigation.GetUriWithQueryParameters(new Dictionary<string, object?> { ["dataset"] = datasetId, ["target"] = target });
            if (link != Navigation.Uri) Navigation.NavigateTo(link, replace: true);
            StatsLookup found;
            await using (var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId))
                found = await scope.ServiceProvider.GetRequiredService<ExplorationService>().LookupAsync(datasetId, target, positive, ct);
            if (found.Report is not null) { report = found.Report; return; }
            var jobId = found.JobRunId;
            if (jobId is null && found.Small)
            {
                progressText = "Computing statistics with DuckDB…";
                var live = new Progress<double>(f => _ = InvokeAsync(() => { progress = f; progressText = $"Computing statistics: {f:P0}"; StateHasChanged(); }));
                await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
                report = await scope.ServiceProvider.GetRequiredService<ExplorationService>().ComputeAsync(datasetId, target, positive, live, ct);
                return;
            }
            if (jobId is null)
            {
                var user = AuthState is null ? null : (await AuthState).User;
                await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
                jobId = await scope.ServiceProvider.GetRequiredService<ExplorationService>().StartAsync(datasetId, target, positive, user?.Actor(), ct);
            }
            report = await WaitForJobAsync(jobId, ct);
        }
        catch (CatalogException e) { error = e.Message; }
        catch (OperationCanceledException) { }
        finally
        {
            busy = false;
            if (!leaving.IsCancellationRequested) StateHasChanged();
        }
    }

    private async Task<StatsReport?> WaitForJobAsync(string jobId, CancellationToken ct)
    {
        progressText = "Computing statistics in the background…";
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(1000, ct);
            await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
            var run = await scope.ServiceProvider.GetRequiredService<CatalogDb>().Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == jobId, ct);
            if (run is null) { error = "The statistics job disappeared."; return null; }
            progress = run.Progress;
            progressText = $"Computing statistics in the background: {run.Progress:P0} {run.ProgressText}";
            StateHasChanged();
            if (run.Status == JobStatus.Succeeded)
                return (await scope.ServiceProvider.GetRequiredService<ExplorationService>().LookupAsync(datasetId!, target, positive, ct)).Report;
            if (JobStatus.IsFinal(run.Status)) { error = run.Error ?? "The statistics job failed."; return null; }
        }
        return null;
    }

    public void Dispose()
    {
        leaving.Cancel();
        leaving.Dispose();
    }
}
