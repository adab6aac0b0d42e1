using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Components.Pages.Wizard;

/// <summary>Step 2: a new or existing dataset of the step-1 schema; enables the schema and the dataset for profile (one-way).</summary>
public partial class DatasetStep
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    private Schema? schema;
    private List<Dataset> datasets = [];
    private Dataset? ready;
    private string mode = "new";
    private string name = "";
    private string? selectedId;
    private string? error;
    private bool busy, loaded;

    private string? Blocker =>
        schema is not null && !schema.ProfileEnabled && SchemaRules.CanEnableProfile(schema.ToDefinition()) is { } reason ? reason
        : mode == "new" && string.IsNullOrWhiteSpace(name) ? "Give the dataset a name."
        : mode == "existing" && selectedId is null ? "Pick a dataset."
        : null;

    protected override async Task OnParametersSetAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var sp = scope.ServiceProvider;
        schema = Context.SchemaId is { } id ? await sp.GetRequiredService<SchemaService>().FindAsync(id) : null;
        if (schema is not null)
        {
            datasets = await sp.GetRequiredService<DatasetService>().Query().Where(d => d.SchemaId == schema.Id && !d.System).OrderBy(d => d.Name).ToListAsync();
            ready = datasets.FirstOrDefault(d => d.Id == Context.DatasetId && d.ProfileEnabled);
            if (string.IsNullOrEmpty(name)) name = datasets.Any(d => d.Name == schema.Name + " records") ? $"{schema.Name} records {datasets.Count + 1}" : schema.Name + " records";
            selectedId ??= datasets.FirstOrDefault()?.Id;
        }
        loaded = true;
    }

    private async Task NextAsync()
    {
        busy = true;
        error = null;
        try
        {
            var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var sp = scope.ServiceProvider;
            var datasetService = sp.GetRequiredService<DatasetService>();
            var datasetId = mode == "new" ? (await datasetService.CreateAsync(name, schema!.Id, actor: actor)).Id : selectedId!;
            await sp.GetRequiredService<SchemaService>().EnableProfileAsync(schema!.Id, actor);
            await datasetService.EnableProfileAsync(datasetId, actor);
            await Context.GoToAsync(2, schema.Id, datasetId);
        }
        catch (CatalogException e) { error = e.Message; }
        finally { busy = false; }
    }
}
