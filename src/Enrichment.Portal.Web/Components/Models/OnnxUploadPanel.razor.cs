using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;

namespace Enrichment.Portal.Web.Components.Models;

/// <summary>Reads the picked file (within <c>Models:Onnx:MaxModelBytes</c>), inspects it with <see cref="OnnxVersionService"/>, and deploys the mapping as a new version.</summary>
public sealed partial class OnnxUploadPanel
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    [Parameter, EditorRequired] public string ModelId { get; set; } = "";
    [Parameter] public string ModelName { get; set; } = "model";
    [Parameter] public EventCallback<OnnxVersionView> OnUploaded { get; set; }

    private OnnxInspection? inspection;
    private IReadOnlyDictionary<string, string[]>? errors;
    private byte[]? bytes;
    private string? fileName, error;
    private bool busy;
    private long MaxBytes { get; set; } = new OnnxOptions().MaxModelBytes;

    protected override void OnInitialized()
    {
        using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        MaxBytes = scope.ServiceProvider.GetRequiredService<OnnxVersionService>().MaxModelBytes;
    }

    private async Task OnFileAsync(IBrowserFile? file)
    {
        if (file is null) return;
        error = null; errors = null; inspection = null; bytes = null;
        fileName = file.Name;
        if (file.Size > MaxBytes) { error = $"The file is {Format.Bytes(file.Size)}, over the model size limit of {Format.Bytes(MaxBytes)}."; return; }
        busy = true;
        try
        {
            using var ms = new MemoryStream();
            await using (var s = file.OpenReadStream(MaxBytes)) await s.CopyToAsync(ms);
            await LoadAsync(file.Name, ms.ToArray());
        }
        catch (IOException e) { error = "The upload did not complete: " + e.Message; }
        finally { busy = false; }
    }

    /// <summary>Inspects the file's bytes (the file picker's path; tests call it directly).</summary>
    internal async Task LoadAsync(string name, byte[] content)
    {
        fileName = name;
        bytes = content;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            inspection = await scope.ServiceProvider.GetRequiredService<OnnxVersionService>().InspectAsync(ModelId, content);
        }
        catch (CatalogException e) { error = e.Message; }
    }

    private async Task DeployAsync(OnnxMappingRequest mapping)
    {
        if (bytes is null) return;
        busy = true; error = null; errors = null;
        try
        {
            var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var view = await scope.ServiceProvider.GetRequiredService<OnnxVersionService>().UploadAsync(ModelId, bytes, mapping, actor: actor);
            inspection = null; bytes = null; fileName = null;
            await OnUploaded.InvokeAsync(view);
        }
        catch (CatalogException e)
        {
            errors = e.Errors;
            error = "The model was not deployed: " + e.Message;
        }
        finally { busy = false; }
    }
}
