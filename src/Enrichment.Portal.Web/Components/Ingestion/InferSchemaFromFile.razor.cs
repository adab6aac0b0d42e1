using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;

namespace Enrichment.Portal.Web.Components.Ingestion;

/// <summary>The file's suggested schema after review, with the file's name (for a schema name).</summary>
public sealed record SchemaFromFile(string FileName, ReviewedSchema Reviewed);

/// <summary>Stages the browser's file (streamed, within the upload limit), infers a schema from a sample and shows the review; the file is discarded afterwards.</summary>
public sealed partial class InferSchemaFromFile
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;

    [Parameter] public SchemaClass Class { get; set; } = SchemaClass.Profile;
    [Parameter] public EventCallback<SchemaFromFile> OnUse { get; set; }
    [Parameter] public string UseLabel { get; set; } = "Use these fields";
    [Parameter] public bool RequirePrimary { get; set; } = true;

    private InferredSchema? inferred;
    private string? fileName, error, busyText;
    private bool busy;

    private async Task OnFileAsync(IBrowserFile? file)
    {
        if (file is null) return;
        error = null;
        inferred = null;
        fileName = file.Name;
        busy = true;
        busyText = "Uploading…";
        StagedUpload? staged = null;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var service = scope.ServiceProvider.GetRequiredService<IngestionService>();
            var max = service.Limits.MaxUploadBytes;
            if (file.Size > max) { error = $"The file is {Format.Bytes(file.Size)}, above the limit of {Format.Bytes(max)}."; return; }
            await using var stream = file.OpenReadStream(max);
            staged = await service.StageUploadAsync(stream, file.Name, max);
            busyText = "Reading a sample…";
            StateHasChanged();
            var result = await SchemaInference.InferAsync(staged.Path, staged.FileName, Class);
            if (result.Error is not null) error = "The file cannot be read: " + result.Error;
            else if (result.Fields.Count == 0) error = "The file has no columns.";
            else inferred = result;
        }
        catch (UploadTooLargeException e) { error = e.Message; }
        catch (IOException e) { error = "The upload did not complete: " + e.Message; }
        catch (CatalogException e) { error = e.Message; }
        finally
        {
            if (staged is not null) IngestionService.Discard(staged);
            busy = false;
        }
    }

    private Task UseAsync(ReviewedSchema reviewed) => OnUse.InvokeAsync(new SchemaFromFile(fileName ?? "file", reviewed));
}
