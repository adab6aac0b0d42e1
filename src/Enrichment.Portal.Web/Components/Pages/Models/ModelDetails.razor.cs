using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Enrichment.Portal.Web.Components.Models;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Pages.Models;

/// <summary>A model: live progress of its latest training, metrics and charts of a version, the versions (activate, compare).</summary>
public partial class ModelDetails
{
    [Parameter] public string Id { get; set; } = "";
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    private ModelView? model;
    private TrainingRunView? latest, shown;
    private VersionComparison? comparison;
    private readonly List<string> compare = [];
    private bool notFound, busy;
    private Timer? timer;
    private int ticking;

    private bool Training => latest is { Status: TrainingStatus.Queued or TrainingStatus.Running };

    /// <summary>"6,400 training profiles, 1,600 held out (2 records of 8,000 profiles in the source, one per customer_id; 12 without a label left out)".</summary>
    internal static string CountsText(TrainingRunView run, string recipe)
    {
        var d = run.Charts?.Data;
        var unit = d?.Unit ?? "rows";
        var text = recipe == "segmentation"
            ? $"{Format.Count(run.TrainRows)} {unit} clustered, silhouette on a sample of {Format.Count(run.TestRows)}"
            : d is { Unit: "customers" } && run.TrainRows == run.TestRows
            ? $"{Format.Count(run.TrainRows)} customers, each trained on its calibration period and measured on the holdout"
            : $"{Format.Count(run.TrainRows)} training {unit}, {Format.Count(run.TestRows)} held out";
        var notes = new List<string>();
        if (d is { KeyField: { } key } && d.SourceRecords != d.Units + d.DroppedUnlabeled)
            notes.Add($"{Format.Count(d.SourceRecords)} records in the source, the newest per {key} kept");
        if (d is { DroppedUnlabeled: > 0 })
            notes.Add($"{Format.Count(d.DroppedUnlabeled)} {unit} without a label left out");
        return notes.Count == 0 ? text : $"{text} ({string.Join("; ", notes)})";
    }

    private string ShownTitle
    {
        get
        {
            var v = model?.Versions?.FirstOrDefault(x => x.RunId == shown?.Id);
            return v is null ? "Result" : $"Version {v.Number}{(v.Active ? " (active)" : "")}";
        }
    }

    private string Definition
    {
        get
        {
            if (model is null) return "";
            var parts = new List<string> { model.Source.Snapshot == true ? "Trained on the newest profile snapshot" : $"Trained on {model.SourceDatasetName ?? model.Source.DatasetId ?? "events"}" };
            if (model.Label is { } l) parts.Add($"label {l.Field} = {l.Positive ?? "true"}");
            if (model.Features is { Count: > 0 } f) parts.Add("features " + string.Join(", ", f));
            if (model.ExcludeFeatures is { Count: > 0 } x) parts.Add("excluding " + string.Join(", ", x));
            if (model.Parameters.Count > 0) parts.Add("parameters " + model.Parameters.ToJsonString());
            return string.Join(" · ", parts);
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        await LoadAsync(selectLatest: true);
        timer ??= new Timer(_ => InvokeAsync(TickAsync), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private async Task TickAsync()
    {
        if (!Training || Interlocked.Exchange(ref ticking, 1) == 1) return;
        try
        {
            var wasTraining = Training;
            await LoadAsync(selectLatest: false);
            if (wasTraining && !Training && latest?.Status == TrainingStatus.Succeeded) shown = latest;
            StateHasChanged();
        }
        catch (ObjectDisposedException) { }
        finally { Interlocked.Exchange(ref ticking, 0); }
    }

    private async Task LoadAsync(bool selectLatest)
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var service = scope.ServiceProvider.GetRequiredService<ModelService>();
        try { model = await service.ViewAsync(Id); }
        catch (CatalogException) { notFound = true; model = null; return; }
        latest = model.LatestRun;
        if (selectLatest || shown is null)
        {
            var active = model.Versions?.FirstOrDefault(v => v.Active);
            shown = latest is { Status: TrainingStatus.Succeeded } ? latest
                : active is not null ? await service.GetRunAsync(active.RunId) : null;
        }
    }

    private async Task ShowVersionAsync(ModelVersionView v)
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        shown = await scope.ServiceProvider.GetRequiredService<ModelService>().GetRunAsync(v.RunId);
    }

    private async Task<string> ActorAsync() => AuthState is null ? "ui" : (await AuthState).User.Actor();

    private async Task OnOnnxUploadedAsync(OnnxVersionView view)
    {
        Snackbar.Add($"Version {view.Number} deployed{(view.Active ? " and active" : "; activate it to score with it")}.", Severity.Success);
        await LoadAsync(false);
    }

    private async Task TrainAsync()
    {
        busy = true;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            await scope.ServiceProvider.GetRequiredService<ModelService>().TrainAsync(Id, await ActorAsync());
            Snackbar.Add("Training started.", Severity.Info);
            await LoadAsync(selectLatest: false);
        }
        catch (CatalogException e) { Snackbar.Add(e.Message, Severity.Error); }
        finally { busy = false; }
    }

    private async Task SetThresholdAsync(double threshold)
    {
        if (shown?.VersionId is not { } versionId) return;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            shown = await scope.ServiceProvider.GetRequiredService<ModelService>().SetThresholdAsync(Id, versionId, threshold, await ActorAsync());
            Snackbar.Add($"Operating threshold set to {Format.Number(threshold, 2)}: grade {shown.Grade}.", Severity.Success);
            await LoadAsync(selectLatest: false);
        }
        catch (CatalogException e) { Snackbar.Add(e.Message, Severity.Error); }
    }

    private async Task ActivateAsync(ModelVersionView v)
    {
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            await scope.ServiceProvider.GetRequiredService<ModelService>().ActivateAsync(Id, v.Id, await ActorAsync());
            Snackbar.Add($"Version {v.Number} is now active: scoring uses it.", Severity.Success);
            await LoadAsync(selectLatest: false);
        }
        catch (CatalogException e) { Snackbar.Add(e.Message, Severity.Error); }
    }

    private async Task ToggleCompare(string versionId, bool on)
    {
        compare.Remove(versionId);
        if (on) compare.Add(versionId);
        while (compare.Count > 2) compare.RemoveAt(0);
        comparison = null;
        if (compare.Count != 2) return;
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var service = scope.ServiceProvider.GetRequiredService<ModelService>();
        var ordered = compare.Select(id => model!.Versions!.First(v => v.Id == id)).OrderBy(v => v.Number).ToList();
        try { comparison = await service.CompareAsync(Id, ordered[0].Id, ordered[1].Id); }
        catch (CatalogException e) { Snackbar.Add(e.Message, Severity.Error); }
    }

    private static string Headline(IReadOnlyDictionary<string, double> metrics)
    {
        var key = new[] { "auc", "r2", "silhouette", "logLikelihood" }.FirstOrDefault(metrics.ContainsKey) ?? metrics.Keys.FirstOrDefault();
        return key is null ? "" : $"{MetricInfo.For(key).Title} {MetricInfo.FormatValue(key, metrics[key])}";
    }

    public void Dispose() => timer?.Dispose();
}
