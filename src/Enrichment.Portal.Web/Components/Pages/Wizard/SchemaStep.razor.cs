using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Components.Ingestion;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Components.Pages.Wizard;

/// <summary>Step 1: the "Customer profile" template (editable) or an existing profile schema; checked by SchemaService before moving on.</summary>
public partial class SchemaStep
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    /// <summary>The ready template: a CRM id as primary identity, an email identity and a few typical attributes.</summary>
    public static IReadOnlyList<SchemaField> CustomerProfileTemplate() =>
    [
        new() { Path = "customerId", Type = FieldType.String, Required = true, Identity = new("CRMID", true), Description = "The customer's id in your CRM." },
        new() { Path = "email", Type = FieldType.String, Identity = new("Email"), Description = "Email address; stitches web and email activity to the customer." },
        new() { Path = "person.firstName", Type = FieldType.String },
        new() { Path = "person.lastName", Type = FieldType.String },
        new() { Path = "person.birthDate", Type = FieldType.Date },
        new() { Path = "homeAddress.city", Type = FieldType.String },
        new() { Path = "homeAddress.country", Type = FieldType.String },
        new() { Path = "loyaltyTier", Type = FieldType.String, Enum = ["Bronze", "Silver", "Gold"] },
        new() { Path = "signupDate", Type = FieldType.Date },
    ];

    private string mode = "template";
    private string name = "Customer profile";
    private List<SchemaField> fields = CustomerProfileTemplate().ToList();
    private List<Schema> existing = [];
    private string? selectedId;
    private SchemaCheck? check;
    private string? error;
    private bool busy;

    private IReadOnlyList<string> Blockers
    {
        get
        {
            if (mode == "existing")
            {
                var s = existing.FirstOrDefault(x => x.Id == selectedId);
                if (s is null) return ["Pick a schema."];
                return s.ProfileEnabled ? [] : SchemaRules.ProfileBlockers(s.ToDefinition());
            }
            if (check is null) return ["Checking the schema…"];
            var list = new List<string>();
            if (string.IsNullOrWhiteSpace(name)) list.Add("Give the schema a name.");
            list.AddRange(check.Errors.Select(e => e.Message));
            list.AddRange(check.ProfileBlockers);
            return list;
        }
    }

    protected override async Task OnInitializedAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        existing = await scope.ServiceProvider.GetRequiredService<SchemaService>().Query()
            .Where(s => s.Class == SchemaClass.Profile).OrderBy(s => s.Name).ToListAsync();
        if (Context.SchemaId is { } id && existing.Any(s => s.Id == id)) { mode = "existing"; selectedId = id; }
        else if (existing.Any(s => s.Name == name)) name = $"Customer profile {existing.Count + 1}";
    }

    private void OnModeChanged(string value)
    {
        if (value == "template" && inferredFrom is null) fields = CustomerProfileTemplate().ToList();
        mode = value;
        selectedId ??= existing.FirstOrDefault(s => s.PrimaryIdentityPath is not null)?.Id ?? existing.FirstOrDefault()?.Id;
    }

    private void OnCheck(SchemaCheck c) => check = c;

    private string? inferredFrom;

    /// <summary>The reviewed fields become the editable fields (checked like the template) and the schema is named after the file.</summary>
    private void OnInferred(SchemaFromFile result)
    {
        inferredFrom = result.FileName;
        fields = result.Reviewed.Fields.ToList();
        check = null;
        var baseName = result.FileName;
        foreach (var ext in new[] { ".gz", ".csv", ".tsv", ".txt", ".jsonl", ".json", ".parquet" })
            if (baseName.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) baseName = baseName[..^ext.Length];
        name = string.IsNullOrWhiteSpace(baseName) ? name : char.ToUpperInvariant(baseName[0]) + baseName[1..];
        if (existing.Any(s => s.Name == name)) name = $"{name} {existing.Count + 1}";
        mode = "template";
    }

    private async Task NextAsync()
    {
        busy = true;
        error = null;
        try
        {
            var id = selectedId;
            if (mode == "template")
            {
                var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
                await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
                id = (await scope.ServiceProvider.GetRequiredService<SchemaService>().CreateAsync(new SchemaDraft(name, SchemaClass.Profile, fields), actor)).Id;
            }
            await Context.GoToAsync(2, id, null);
        }
        catch (CatalogException e) { error = e.Message; }
        finally { busy = false; }
    }
}
