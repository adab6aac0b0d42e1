using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Web.Auth;
using Enrichment.Portal.Web.Components.Scoring;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Components.Pages.Wizard;

/// <summary>Step 6: choose a trained model (the one of step 5 by default) and a target, score, watch the run, see rows scored and the distribution.</summary>
public partial class ScoreStep
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    private List<Model> models = [];
    private List<Dataset> targets = [];
    private ModelView? model;
    private ScoringRunView? run;
    private ScoreDistribution? training;
    private string? modelId, targetKey, error;
    private bool loaded, busy;
    private Timer? timer;
    private int ticking;

    protected override async Task OnInitializedAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var sp = scope.ServiceProvider;
        models = await sp.GetRequiredService<ModelService>().Query().Where(m => m.ActiveVersionId != null).OrderByDescending(m => m.UpdatedAt).Take(50).ToListAsync();
        targets = await sp.GetRequiredService<DatasetService>().Query().Where(d => !d.System).OrderBy(d => d.Name).ToListAsync();
        var pick = models.FirstOrDefault(m => m.Id == Context.ModelId) ?? models.FirstOrDefault();
        if (pick is not null) await SelectAsync(sp, pick.Id);
        loaded = true;
    }

    private async Task OnModelAsync(string id)
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        targetKey = null;
        await SelectAsync(scope.ServiceProvider, id);
    }

    /// <summary>Shows the model's newest run (so the step can be left and resumed) and its source as the default target.</summary>
    private async Task SelectAsync(IServiceProvider sp, string id)
    {
        modelId = id;
        error = null;
        model = await sp.GetRequiredService<ModelService>().ViewAsync(id);
        targetKey ??= model.Source.Snapshot == true || model.Source.DatasetId is null ? ScoringSection.SnapshotKey : model.Source.DatasetId;
        run = (await sp.GetRequiredService<ScoringService>().ListRunsAsync(id, 0, 1)).Items.FirstOrDefault();
        training = ModelJson.Read<ScoreDistribution>(await sp.GetRequiredService<CatalogDb>().Set<ModelVersion>()
            .Where(v => v.Id == model.ActiveVersionId).Select(v => v.TrainingDistributionJson).FirstOrDefaultAsync());
        if (run is not null && !ScoringStatus.IsFinal(run.Status)) Watch();
    }

    private async Task ScoreAsync()
    {
        if (modelId is null) return;
        busy = true;
        error = null;
        try
        {
            var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var service = scope.ServiceProvider.GetRequiredService<ScoringService>();
            var started = await service.StartAsync(modelId, targetKey is null or ScoringSection.SnapshotKey ? ScoringTarget.NewestSnapshot : ScoringTarget.Dataset(targetKey), actor);
            run = await service.GetRunAsync(started.Id);
            Watch();
        }
        catch (CatalogException e) { error = e.Message; }
        finally { busy = false; }
    }

    private void Watch() => timer ??= new Timer(_ => InvokeAsync(TickAsync), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

    private async Task TickAsync()
    {
        if (run is null || ScoringStatus.IsFinal(run.Status) || Interlocked.Exchange(ref ticking, 1) == 1) return;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            run = await scope.ServiceProvider.GetRequiredService<ScoringService>().GetRunAsync(run.Id);
            StateHasChanged();
        }
        catch (ObjectDisposedException) { }
        finally { Interlocked.Exchange(ref ticking, 0); }
    }

    public void Dispose() => timer?.Dispose();
}
