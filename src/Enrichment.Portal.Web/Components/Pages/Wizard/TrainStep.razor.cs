using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Components.Models;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Components.Pages.Wizard;

/// <summary>Step 5: choose a recipe, the source, label and features (with leak warnings), train, watch, read the result.</summary>
public partial class TrainStep
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;

    private List<Model> models = [];
    private TrainingRunView? run;
    private string? modelId, modelName;
    private Timer? timer;
    private int ticking;

    private string Summary
    {
        get
        {
            if (run?.Metrics is not { } m) return "";
            if (m.TryGetValue("auc", out var auc))
                return $"On held-out customers the model reaches an AUC of {Format.Number(auc, 3)} (0.5 would be guessing), and the top 10 % of scores hold {Format.Number(m.GetValueOrDefault("lift10"), 1)} times the average rate of positives.";
            return string.Join(", ", m.Select(kv => $"{MetricInfo.For(kv.Key).Title} {MetricInfo.FormatValue(kv.Key, kv.Value)}"));
        }
    }

    protected override async Task OnInitializedAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        models = await scope.ServiceProvider.GetRequiredService<ModelService>().Query().OrderBy(m => m.Name).Take(20).ToListAsync();
    }

    private async Task StartedAsync(ModelTrainingStarted started)
    {
        modelId = started.ModelId;
        await RefreshAsync();
        timer ??= new Timer(_ => InvokeAsync(TickAsync), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private Task WatchAsync(string id) => StartedAsync(new ModelTrainingStarted(id, ""));

    private async Task RefreshAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var service = scope.ServiceProvider.GetRequiredService<ModelService>();
        try
        {
            var model = await service.GetAsync(modelId!);
            modelName = model.Name;
            run = await service.LatestRunAsync(model.Id);
        }
        catch (CatalogException) { run = null; modelId = null; }
    }

    private async Task TickAsync()
    {
        if (modelId is null || run is null || TrainingStatus.IsFinal(run.Status) || Interlocked.Exchange(ref ticking, 1) == 1) return;
        try
        {
            await RefreshAsync();
            StateHasChanged();
        }
        catch (ObjectDisposedException) { }
        finally { Interlocked.Exchange(ref ticking, 0); }
    }

    private void Reset()
    {
        run = null;
        modelId = null;
    }

    public void Dispose() => timer?.Dispose();
}
