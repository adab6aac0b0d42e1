using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.SchemaFields;

/// <summary>
/// Edits a working copy of a schema's fields. Every change is checked by <see cref="SchemaService.CheckAsync"/> (the same rules as
/// the API); the host gets the result through <see cref="OnCheck"/> (errors, profile blockers) to enable its buttons.
/// </summary>
public partial class SchemaFieldsEditor
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;

    /// <summary>The working copy, changed in place.</summary>
    [Parameter, EditorRequired] public List<SchemaField> Fields { get; set; } = [];
    [Parameter] public string SchemaName { get; set; } = "";
    [Parameter] public SchemaClass Class { get; set; } = SchemaClass.Profile;
    /// <summary>Stored fields of a profile-enabled schema: they cannot be removed and their identity cannot change.</summary>
    [Parameter] public IReadOnlySet<string>? Locked { get; set; }
    [Parameter] public bool ReadOnly { get; set; }
    [Parameter] public EventCallback<SchemaCheck> OnCheck { get; set; }
    [Parameter] public EventCallback FieldsChanged { get; set; }

    private SchemaCheck? check;
    private IReadOnlyList<NamespaceInfo> namespaces = [];
    private SchemaClass? checkedClass;

    protected override async Task OnInitializedAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        namespaces = await scope.ServiceProvider.GetRequiredService<IdentityNamespaceService>().ListAsync();
    }

    protected override async Task OnParametersSetAsync()
    {
        if (checkedClass != Class) await RecheckAsync(notify: true);
    }

    private bool IsLocked(string path) => Locked?.Contains(path) == true;

    /// <summary>Checks the working copy again (e.g. after the host changed the name or class).</summary>
    public async Task RecheckAsync(bool notify = true)
    {
        checkedClass = Class;
        check = await CheckAsync(Fields);
        // Event schemas always carry timestamp and eventType: show them as soon as the class is chosen.
        if (check.Definition.Fields.Count > Fields.Count)
        {
            Fields.InsertRange(0, check.Definition.Fields.Where(f => Fields.All(x => x.Path != f.Path)));
            if (FieldsChanged.HasDelegate) await FieldsChanged.InvokeAsync();
        }
        if (notify && OnCheck.HasDelegate) await OnCheck.InvokeAsync(check);
    }

    private async Task<SchemaCheck> CheckAsync(IReadOnlyList<SchemaField> fields)
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        var service = scope.ServiceProvider.GetRequiredService<SchemaService>();
        return await service.CheckAsync(new SchemaDefinition(string.IsNullOrWhiteSpace(SchemaName) ? "draft" : SchemaName, Class, fields));
    }

    /// <summary>What adding <paramref name="field"/> would break, beyond what is broken already.</summary>
    private async Task<IReadOnlyList<string>> ValidateNewAsync(SchemaField field)
    {
        if (Fields.Any(f => f.Path == field.Path)) return [$"The path '{field.Path}' already exists."];
        var before = (check ?? await CheckAsync(Fields)).Errors.Select(e => e.Message).ToHashSet();
        var after = await CheckAsync([.. Fields, field]);
        return after.Errors.Select(e => e.Message).Where(m => !before.Contains(m)).ToList();
    }

    private async Task AddAsync(string? parent)
    {
        var parameters = new DialogParameters<AddFieldDialog>
        {
            { x => x.Parents, FieldTree.ObjectPaths(Fields) },
            { x => x.Namespaces, namespaces },
            { x => x.InitialParent, parent ?? "" },
            { x => x.Validate, ValidateNewAsync },
        };
        var dialog = await Dialogs.ShowAsync<AddFieldDialog>("Add a field", parameters, new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true });
        var result = await dialog.Result;
        if (result is { Canceled: false, Data: SchemaField field })
        {
            if (field.Identity is { Primary: true })
                ClearPrimary();
            Fields.Add(field);
            await ChangedAsync();
        }
    }

    private async Task MakePrimaryAsync(string path)
    {
        ClearPrimary();
        var i = Fields.FindIndex(f => f.Path == path);
        if (i >= 0 && Fields[i].Identity is { } id) Fields[i] = Fields[i] with { Identity = id with { Primary = true } };
        await ChangedAsync();
    }

    private void ClearPrimary()
    {
        for (var i = 0; i < Fields.Count; i++)
            if (Fields[i].Identity is { Primary: true } id && !IsLocked(Fields[i].Path))
                Fields[i] = Fields[i] with { Identity = id with { Primary = false } };
    }

    private async Task RemoveAsync(string path)
    {
        Fields.RemoveAll(f => f.Path == path);
        await ChangedAsync();
    }

    private async Task ChangedAsync()
    {
        if (FieldsChanged.HasDelegate) await FieldsChanged.InvokeAsync();
        await RecheckAsync();
    }
}
