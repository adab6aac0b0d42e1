using Enrichment.Portal.Core.Ingestion.Readers;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Web.Components.Ingestion;

/// <summary>Upload panel: stages the browser's file on the server (streamed), previews and maps it, then starts a batch and shows its progress.</summary>
public sealed partial class UploadPanel : IDisposable
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    [Parameter, EditorRequired] public string DatasetId { get; set; } = "";
    /// <summary>Called when the started batch reaches a final state.</summary>
    [Parameter] public EventCallback<Batch> OnFinished { get; set; }

    private StagedUpload? staged;
    private PreviewResult? preview;
    private IReadOnlyList<MappedRow> mapped = [];
    private Dictionary<string, string> mapping = new(StringComparer.Ordinal);
    private List<string> fields = [];
    private List<string> required = [];
    private string delimiter = ",";
    private string encoding = TextDecoding.Utf8;
    private double threshold = 5;
    private string? dateFormat, timestampFormat, error, busyText, batchId;
    private bool busy;
    private long maxBytes = new IngestionOptions().MaxUploadBytes;

    private List<string> UnmappedRequired => required.Where(r => !mapping.Values.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();

    protected override async Task OnParametersSetAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var service = scope.ServiceProvider.GetRequiredService<IngestionService>();
        maxBytes = service.Limits.MaxUploadBytes;
        try
        {
            var ds = await service.DatasetAsync(DatasetId);
            fields = ds.Schema.Fields.Select(f => f.Path).ToList();
            required = ds.Schema.Fields.Where(f => f.Required || (ds.Schema.Class == SchemaClass.Event && f.Path is "timestamp" or "eventType")).Select(f => f.Path).ToList();
        }
        catch (CatalogException e) { error = e.Message; }
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
            var service = scope.ServiceProvider.GetRequiredService<IngestionService>();
            if (file.Size > maxBytes) { error = $"The file is {Format.Bytes(file.Size)}, above the limit of {Format.Bytes(maxBytes)}."; return; }
            await using var stream = file.OpenReadStream(maxBytes);
            staged = await service.StageUploadAsync(stream, file.Name, maxBytes);
            delimiter = staged.FileName.Contains(".tsv", StringComparison.OrdinalIgnoreCase) ? "\\t" : ",";
            await PreviewAsync(service, resetMapping: true);
        }
        catch (UploadTooLargeException e) { error = e.Message; }
        catch (IOException e) { error = "The upload did not complete: " + e.Message; }
        finally { busy = false; }
    }

    private async Task PreviewAsync(IngestionService service, bool resetMapping)
    {
        busyText = "Reading the first rows…";
        var options = Options();
        preview = await service.PreviewAsync(DatasetId, staged!.Path, staged.FileName, options.Delimiter, encoding: options.Encoding);
        if (resetMapping || !mapping.Keys.All(preview.Columns.Contains))
            mapping = new Dictionary<string, string>(preview.SuggestedMapping, StringComparer.Ordinal);
        // A delimiter that leaves one column while ';' would split it is a likely mistake: suggest ';'.
        if (resetMapping && preview.Columns.Count == 1 && preview.Columns[0].Contains(';'))
        {
            delimiter = ";";
            preview = await service.PreviewAsync(DatasetId, staged.Path, staged.FileName, ';', encoding: options.Encoding);
            mapping = new Dictionary<string, string>(preview.SuggestedMapping, StringComparer.Ordinal);
        }
        await MapAsync(service);
    }

    private async Task MapAsync(IngestionService service)
    {
        if (preview is null || preview.Error is not null) { mapped = []; return; }
        try { mapped = await service.MapPreviewAsync(DatasetId, preview, Options() with { Mapping = mapping }); }
        catch (CatalogException e) { error = e.Message; }
    }

    private async Task OnDelimiterAsync(string value)
    {
        delimiter = value;
        if (staged is null || string.IsNullOrEmpty(value)) return;
        try
        {
            IngestionService.ParseOptions(delimiter, null, null, null, null, null);
            error = null;
        }
        catch (CatalogException e) { error = e.Message; return; }
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        await PreviewAsync(scope.ServiceProvider.GetRequiredService<IngestionService>(), resetMapping: false);
    }

    private async Task OnEncodingAsync(string value)
    {
        encoding = value;
        if (staged is null) return;
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        await PreviewAsync(scope.ServiceProvider.GetRequiredService<IngestionService>(), resetMapping: false);
    }

    private async Task OnMapAsync(string column, string field)
    {
        if (string.IsNullOrEmpty(field)) mapping.Remove(column);
        else
        {
            foreach (var other in mapping.Where(kv => kv.Value == field && kv.Key != column).Select(kv => kv.Key).ToList()) mapping.Remove(other);
            mapping[column] = field;
        }
        await RemapAsync();
    }

    private async Task RemapAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        await MapAsync(scope.ServiceProvider.GetRequiredService<IngestionService>());
    }

    private BatchOptions Options()
    {
        var parsed = IngestionService.ParseOptions(delimiter, null, null, null, dateFormat, timestampFormat, encoding);
        return parsed with { ErrorThreshold = Math.Clamp(threshold, 0, 100) };
    }

    private async Task IngestAsync()
    {
        if (staged is null) return;
        busy = true;
        busyText = "Starting…";
        error = null;
        try
        {
            var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var created = await scope.ServiceProvider.GetRequiredService<IngestionService>()
                .CreateBatchAsync(DatasetId, staged, Options() with { Mapping = new(mapping) }, null, actor);
            staged = null;
            batchId = created.Batch.Id;
        }
        catch (CatalogException e) { error = e.Message; }
        finally { busy = false; }
    }

    private Task OnFinishedAsync(Batch batch) => OnFinished.InvokeAsync(batch);

    private Task ResetAsync()
    {
        Discard();
        batchId = null;
        preview = null;
        mapped = [];
        mapping.Clear();
        error = null;
        return Task.CompletedTask;
    }

    private void Discard()
    {
        if (staged is not null) IngestionService.Discard(staged);
        staged = null;
    }

    public void Dispose() => Discard();
}
