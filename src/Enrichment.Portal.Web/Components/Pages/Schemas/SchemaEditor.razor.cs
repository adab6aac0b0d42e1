using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Auth;
using Enrichment.Portal.Web.Components.SchemaFields;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Pages.Schemas;

/// <summary>Creates a schema or changes one: fields in a tree, live rule check, what blocks profile enablement, enable, export.</summary>
public partial class SchemaEditor
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    [Parameter] public string? Id { get; set; }

    private bool IsNew => Id is null;
    private Schema? schema;
    private bool notFound;
    private List<SchemaField> fields = [];
    private IReadOnlySet<string>? locked;
    private string name = "";
    private SchemaClass cls = SchemaClass.Profile;
    private string? description;
    private SchemaCheck? lastCheck;
    private bool dirty;
    private bool busy;
    private SchemaFieldsEditor? editor;

    private string CurrentName => IsNew ? name : schema?.Name ?? "";
    private SchemaClass CurrentClass => IsNew ? cls : schema?.Class ?? SchemaClass.Profile;

    private bool CanSave => !busy && lastCheck is { IsValid: true } && (IsNew ? !string.IsNullOrWhiteSpace(name) : dirty);

    /// <summary>Why "Enable for profile" is disabled, in sentences; empty when it can be pressed.</summary>
    private IReadOnlyList<string> EnableBlockers
    {
        get
        {
            if (lastCheck is null) return ["Checking the schema…"];
            var list = new List<string>(lastCheck.ProfileBlockers);
            if (!lastCheck.IsValid) list.Add("Fix the problems listed under the fields first.");
            if (IsNew && string.IsNullOrWhiteSpace(name)) list.Add("Give the schema a name.");
            if (!IsNew && dirty) list.Add("Save your changes first.");
            return list;
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        notFound = false;
        if (IsNew)
        {
            schema = null;
            locked = null;
            return;
        }
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        schema = await scope.ServiceProvider.GetRequiredService<SchemaService>().FindAsync(Id!);
        if (schema is null) { notFound = true; return; }
        fields = schema.Fields.ToList();
        locked = schema.ProfileEnabled ? fields.Select(f => f.Path).ToHashSet(StringComparer.Ordinal) : null;
        dirty = false;
        if (editor is not null) await editor.RecheckAsync();
    }

    private void OnCheck(SchemaCheck check) => lastCheck = check;

    private void OnFieldsChanged() => dirty = !IsNew;

    private void OnNameChanged(string value) => name = value;

    private void OnClassChanged(SchemaClass value) => cls = value;

    private async Task<string> ActorAsync() => AuthState is null ? "ui" : (await AuthState).User.Actor();

    private async Task SaveAsync()
    {
        busy = true;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var service = scope.ServiceProvider.GetRequiredService<SchemaService>();
            if (IsNew)
            {
                var created = await service.CreateAsync(new SchemaDraft(name, cls, fields, description), await ActorAsync());
                Snackbar.Add($"Schema '{created.Name}' created.", Severity.Success);
                Navigation.NavigateTo($"/schemas/{created.Id}");
            }
            else
            {
                var saved = await service.ReplaceFieldsAsync(schema!.Id, fields, schema.Version, await ActorAsync());
                Snackbar.Add($"Saved: version {saved.Version}.", Severity.Success);
                await LoadAsync();
            }
        }
        catch (CatalogException e) { Snackbar.Add(e.Message, Severity.Error); }
        finally { busy = false; }
    }

    private async Task DiscardAsync() => await LoadAsync();

    private async Task EnableAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Enable for profile",
            "Records of this schema's profile-enabled datasets will feed customer profiles. This cannot be undone, and afterwards the schema accepts only additive changes. Enable it?",
            yesText: "Enable", cancelText: "Cancel");
        if (confirmed != true) return;
        busy = true;
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var service = scope.ServiceProvider.GetRequiredService<SchemaService>();
            var id = schema?.Id;
            if (IsNew) id = (await service.CreateAsync(new SchemaDraft(name, cls, fields, description), await ActorAsync())).Id;
            await service.EnableProfileAsync(id!, await ActorAsync());
            Snackbar.Add("The schema is enabled for profile.", Severity.Success);
            if (IsNew) Navigation.NavigateTo($"/schemas/{id}");
            else await LoadAsync();
        }
        catch (CatalogException e) { Snackbar.Add(e.Message, Severity.Error); }
        finally { busy = false; }
    }
}
