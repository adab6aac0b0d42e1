using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Web;
using Enrichment.Portal.Web.Auth;
using Enrichment.Portal.Web.Components;
using Enrichment.Portal.Web.Components.SchemaFields;
using Enrichment.Portal.Web.Components.Exploration;
using Enrichment.Portal.Web.Components.Ingestion;
using Enrichment.Portal.Web.Components.Insights;
using Enrichment.Portal.Web.Components.Layout;
using Enrichment.Portal.Web.Components.Models;
using Enrichment.Portal.Web.Components.Scoring;
using Enrichment.Portal.Web.Components.Shared;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Components.Web.Virtualization;
using Microsoft.EntityFrameworkCore;
using Microsoft.JSInterop;
using MudBlazor;
using System.Net.Http;
using System.Security.Claims;
using static Microsoft.AspNetCore.Components.Web.RenderMode;

namespace Enrichment.Portal.Web.Components.Pages.Models;

/// <summary>The logic of <c>ImportScores.razor</c> (markup there).</summary>
public partial class ImportScores
{
    [CascadingParameter] private Task<Microsoft.AspNetCore.Components.Authorization.AuthenticationState>? AuthState { get; set; }

    private readonly List<BreadcrumbItem> crumbs = [new("Models", "/models"), new("Import scores", null, disabled: true)];
    private StagedUpload? staged;
    private InsightImportPreview? preview;
    private IReadOnlyList<NamespaceInfo> namespaces = [];
    private List<string> modelNames = [];
    private List<Dataset> imports = [];
    private InsightImportStarted? started;
    private Batch? finished;
    private List<RejectedRecord> rejected = [];
    private List<string> samples = [];
    private string delimiter = ",";
    private string? batchId, error, busyText;
    private bool busy;

    protected override async Task OnInitializedAsync() => await LoadAsync();

    private async Task LoadAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var sp = scope.ServiceProvider;
        namespaces = await sp.GetRequiredService<IdentityNamespaceService>().ListAsync();
        modelNames = await sp.GetRequiredService<ModelService>().Query().Select(m => m.Name).ToListAsync();
        imports = await sp.GetRequiredService<InsightImportService>().ImportDatasetsAsync();
    }

    private async Task OnFileAsync(IBrowserFile? file)
    {
        if (file is null) return;
        Discard();
        error = null;
        busy = true;
        busyText = "Uploading…";
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var ingestion = scope.ServiceProvider.GetRequiredService<IngestionService>();
            var max = ingestion.Limits.MaxUploadBytes;
            if (file.Size > max) { error = $"The file is {Format.Bytes(file.Size)}, above the limit of {Format.Bytes(max)}."; return; }
            await using var stream = file.OpenReadStream(max);
            staged = await ingestion.StageUploadAsync(stream, file.Name, max);
            delimiter = ",";
            await PreviewAsync();
            if (preview is { Error: null, Columns.Count: 1 } && preview.Columns[0].Contains(';'))
            {
                delimiter = ";";
                await PreviewAsync();
            }
        }
        catch (UploadTooLargeException e) { error = e.Message; }
        catch (IOException e) { error = "The upload did not complete: " + e.Message; }
        finally { busy = false; }
    }

    private async Task PreviewAsync()
    {
        busyText = "Reading the first rows…";
        preview = await InsightImportService.PreviewAsync(staged!.Path, staged.FileName, Delimiter());
    }

    private char Delimiter() => delimiter is "\\t" or "tab" ? '\t' : string.IsNullOrEmpty(delimiter) ? ',' : delimiter[0];

    private async Task OnDelimiterAsync(string value)
    {
        delimiter = value;
        if (staged is not null && !string.IsNullOrEmpty(value)) await PreviewAsync();
    }

    private async Task StartAsync(InsightImportRequest request)
    {
        if (staged is null) return;
        busy = true;
        busyText = "Starting…";
        error = null;
        try
        {
            var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var file = staged;
            staged = null;
            started = await scope.ServiceProvider.GetRequiredService<InsightImportService>().StartAsync(request with { Delimiter = Delimiter() }, file, actor);
            batchId = started.BatchId;
        }
        catch (CatalogException e)
        {
            error = e.Message;
            preview = null;
        }
        finally { busy = false; }
    }

    private async Task FinishedAsync(Batch batch)
    {
        finished = batch;
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var sp = scope.ServiceProvider;
        if (batch.RecordsFailed > 0)
            rejected = (await sp.GetRequiredService<IngestionService>().ErrorsAsync(batch.Id, 0, 50)).Items.ToList();
        if (batch.Status == BatchStatus.Success)
            samples = await sp.GetRequiredService<InsightImportService>().SampleProfilesAsync(batch.Id, 3);
        imports = await sp.GetRequiredService<InsightImportService>().ImportDatasetsAsync();
        StateHasChanged();
    }

    private void Reset()
    {
        batchId = null;
        started = null;
        finished = null;
        rejected = [];
        samples = [];
        preview = null;
        error = null;
    }

    private void Discard()
    {
        if (staged is not null) IngestionService.Discard(staged);
        staged = null;
    }

    public void Dispose() => Discard();
}
