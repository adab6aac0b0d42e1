using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Scoring;

/// <summary>The model page's scoring: runs (polled every second while one is open), drift, schedule and one-profile scoring.</summary>
public sealed partial class ScoringSection : IDisposable
{
    public const string SnapshotKey = "__snapshot";
    private const int PageSize = 20;

    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    [Parameter, EditorRequired] public ModelView Model { get; set; } = default!;
    /// <summary>Called when the schedule changed, so the page reloads the model.</summary>
    [Parameter] public EventCallback OnChanged { get; set; }

    private List<ScoringRunView> runs = [];
    private int? nextOffset;
    private List<Dataset> targets = [];
    private Dictionary<string, string> datasetNames = [];
    private IReadOnlyList<NamespaceInfo> namespaces = [];
    private ScoreDistribution? training;
    private string? targetKey, error, predictNamespace = "CRMID", predictId, predictError, watchedRunId;
    private PredictionView? prediction;
    private IReadOnlyDictionary<string, InsightModelLink> predictionLinks = new Dictionary<string, InsightModelLink>();
    private List<string> samples = [];
    private bool busy;
    private string? loadedFor;
    private Timer? timer;
    private int ticking;

    private ScoringRunView? Active => runs.FirstOrDefault(r => !ScoringStatus.IsFinal(r.Status));
    private ScoringRunView? LatestSucceeded => runs.FirstOrDefault(r => r.Status == ScoringStatus.Succeeded);
    /// <summary>The run started from this page, once it has finished (its result stays visible).</summary>
    private ScoringRunView? LatestFinishedJustNow => watchedRunId is null ? null : runs.FirstOrDefault(r => r.Id == watchedRunId);

    protected override async Task OnParametersSetAsync()
    {
        if (loadedFor == Model.Id + Model.ActiveVersionId) return;
        loadedFor = Model.Id + Model.ActiveVersionId;
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var sp = scope.ServiceProvider;
        var all = await sp.GetRequiredService<DatasetService>().Query().OrderBy(d => d.Name).ToListAsync();
        datasetNames = all.ToDictionary(d => d.Id, d => d.Name);
        targets = all.Where(d => (!d.System && d.RecordCount > 0) || d.Id == Model.Source.DatasetId).ToList();
        targetKey ??= Model.Source.Snapshot == true || Model.Source.DatasetId is null ? SnapshotKey : Model.Source.DatasetId;
        namespaces = await sp.GetRequiredService<IdentityNamespaceService>().ListAsync();
        training = Model.ActiveVersionId is null ? null : ModelJson.Read<ScoreDistribution>(await sp.GetRequiredService<CatalogDb>().Set<ModelVersion>()
            .Where(v => v.Id == Model.ActiveVersionId).Select(v => v.TrainingDistributionJson).FirstOrDefaultAsync());
        await LoadRunsAsync(sp);
        EnsureTimer();
    }

    private async Task LoadRunsAsync(IServiceProvider sp)
    {
        var page = await sp.GetRequiredService<ScoringService>().ListRunsAsync(Model.Id, 0, Math.Max(PageSize, runs.Count));
        runs = page.Items.ToList();
        nextOffset = page.NextOffset;
    }

    private async Task MoreAsync()
    {
        if (nextOffset is not { } offset) return;
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var page = await scope.ServiceProvider.GetRequiredService<ScoringService>().ListRunsAsync(Model.Id, offset, PageSize);
        runs.AddRange(page.Items);
        nextOffset = page.NextOffset;
    }

    private void EnsureTimer()
    {
        if (Active is not null) timer ??= new Timer(_ => InvokeAsync(TickAsync), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private async Task TickAsync()
    {
        if (Interlocked.Exchange(ref ticking, 1) == 1) return;
        try
        {
            var before = Active?.Id;
            await using (var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId))
            {
                await LoadRunsAsync(scope.ServiceProvider);
                if (before is not null && runs.FirstOrDefault(r => r.Id == before) is { } done && ScoringStatus.IsFinal(done.Status))
                {
                    if (done.Status == ScoringStatus.Succeeded)
                    {
                        samples = await scope.ServiceProvider.GetRequiredService<InsightQueries>().ProfilesWithInsightsAsync(3, Model.Name);
                        Snackbar.Add($"Scored {Format.Count(done.RowsScored)} rows of '{Model.Name}'.", Severity.Success);
                    }
                    else Snackbar.Add($"Scoring failed: {done.Error}", Severity.Error);
                }
            }
            if (Active is null) { timer?.Dispose(); timer = null; }
            StateHasChanged();
        }
        catch (ObjectDisposedException) { }
        finally { Interlocked.Exchange(ref ticking, 0); }
    }

    private async Task<string> ActorAsync() => AuthState is null ? "ui" : (await AuthState).User.Actor();

    private async Task ScoreAsync()
    {
        busy = true;
        error = null;
        try
        {
            var target = targetKey is null or SnapshotKey ? ScoringTarget.NewestSnapshot : ScoringTarget.Dataset(targetKey);
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var run = await scope.ServiceProvider.GetRequiredService<ScoringService>().StartAsync(Model.Id, target, await ActorAsync());
            watchedRunId = run.Id;
            samples = [];
            await LoadRunsAsync(scope.ServiceProvider);
            EnsureTimer();
        }
        catch (CatalogException e)
        {
            error = e.Message;
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally { busy = false; }
    }

    private async Task SaveScheduleAsync((string Cron, bool Retrain) s)
    {
        await ScheduleAsync(service => service.SetScheduleAsync(Model.Id, s.Cron, s.Retrain, null), "Schedule saved.");
    }

    private Task ClearScheduleAsync() => ScheduleAsync(service => service.ClearScheduleAsync(Model.Id, null), "Schedule cleared.");

    private async Task ScheduleAsync(Func<ScoringService, Task<ModelScheduleView>> change, string done)
    {
        busy = true;
        try
        {
            await using (var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId))
                await change(scope.ServiceProvider.GetRequiredService<ScoringService>());
            Snackbar.Add(done, Severity.Success);
            await OnChanged.InvokeAsync();
        }
        catch (CatalogException e) { Snackbar.Add(e.Message, Severity.Error); }
        finally { busy = false; }
    }

    private async Task PredictAsync()
    {
        busy = true;
        predictError = null;
        prediction = null;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var sp = scope.ServiceProvider;
            prediction = await sp.GetRequiredService<ScoringService>().PredictAsync(Model.Id, predictNamespace, predictId?.Trim());
            predictionLinks = await sp.GetRequiredService<InsightQueries>().ModelLinksAsync([prediction.ModelVersion]);
        }
        catch (CatalogException e) { predictError = e.Message; }
        finally { busy = false; }
    }

    /// <summary>A prediction in the shape of the insights map, so it renders as the profile viewer's card.</summary>
    public static JsonObject PredictionInsights(PredictionView p)
    {
        var o = new JsonObject();
        if (p.Score is { } s) o["score"] = s;
        if (p.Value is { } v) o["value"] = v;
        if (p.Segment is { } g) o["segment"] = g;
        if (p.Engagement is { } e) o["engagement"] = e;
        if (p.Top is { Count: > 0 } t) o["top"] = new JsonArray(t.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray());
        if (p.Uplift is { } u) o["uplift"] = u;
        if (p.Reasons is { Count: > 0 } reasons)
            o["reasons"] = new JsonArray(reasons.Select(r => (JsonNode?)new JsonObject { ["feature"] = r.Feature, ["direction"] = r.Direction, ["contribution"] = r.Contribution, ["value"] = r.Value }).ToArray());
        o["modelVersion"] = p.ModelVersion;
        o["scoredAt"] = p.ScoredAt.UtcDateTime.ToString("O");
        return new JsonObject { [p.ModelName] = o };
    }

    public void Dispose() => timer?.Dispose();
}
