using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Insights;
using Microsoft.AspNetCore.Components;

namespace Enrichment.Portal.Web.Components.Insights;

/// <summary>
/// The mapping form of a bring-your-own-scores import. Starts from the preview's suggestion, validates as the API does
/// (<see cref="InsightImportService.Check"/>) on every change, and hands a well-formed request to <see cref="OnSubmit"/>.
/// </summary>
public sealed partial class ScoreImportMapping
{
    public const string Skip = "";
    public const string Custom = "__custom";
    public const string ScoredAtRole = "__scoredAt";

    [Parameter, EditorRequired] public InsightImportPreview Preview { get; set; } = default!;
    [Parameter, EditorRequired] public IReadOnlyList<NamespaceInfo> Namespaces { get; set; } = [];
    /// <summary>Names already used by models of the sandbox (an import cannot take one).</summary>
    [Parameter] public IReadOnlyCollection<string> ModelNames { get; set; } = [];
    [Parameter] public bool Busy { get; set; }
    [Parameter] public EventCallback<InsightImportRequest> OnSubmit { get; set; }

    private InsightImportPreview? initialized;
    private string? name, identityColumn, identityNamespace, scoredAtColumn, modelVersion;
    private double threshold = 5;
    /// <summary>Column -> insight field (standard or custom name).</summary>
    private readonly Dictionary<string, string> fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> customColumns = new(StringComparer.Ordinal);
    private Dictionary<string, string[]> errors = [];

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(initialized, Preview)) return;
        initialized = Preview;
        var s = Preview.Suggestion;
        name = s.Name;
        identityColumn = s.IdentityColumn;
        identityNamespace = Namespaces.Any(n => n.Code == s.Namespace) ? s.Namespace : Namespaces.FirstOrDefault()?.Code;
        scoredAtColumn = s.ScoredAtColumn;
        fields.Clear();
        customColumns.Clear();
        foreach (var (column, field) in s.Fields)
        {
            fields[column] = field;
            if (!InsightFields.Standard.Contains(field)) customColumns.Add(column);
        }
        Validate();
    }

    /// <summary>The request as the form stands.</summary>
    public InsightImportRequest Request() => new(name, new InsightImportIdentity(identityColumn, identityNamespace),
        new Dictionary<string, string>(fields, StringComparer.Ordinal), scoredAtColumn, string.IsNullOrWhiteSpace(modelVersion) ? null : modelVersion.Trim())
        { ErrorThreshold = threshold };

    private string RoleOf(string column) =>
        column == scoredAtColumn ? ScoredAtRole : customColumns.Contains(column) ? Custom : fields.GetValueOrDefault(column) ?? Skip;

    private string FirstValues(int i) =>
        string.Join(", ", Preview.Rows.Take(3).Select(r => i < r.Count ? r[i] : null).Where(v => !string.IsNullOrEmpty(v)));

    private Task OnNameAsync(string? v) { name = v; Validate(); return Task.CompletedTask; }

    private Task OnNamespaceAsync(string? v) { identityNamespace = v; Validate(); return Task.CompletedTask; }

    private Task OnIdentityAsync(string? v)
    {
        identityColumn = v;
        if (v is not null)
        {
            fields.Remove(v);
            customColumns.Remove(v);
            if (scoredAtColumn == v) scoredAtColumn = null;
        }
        Validate();
        return Task.CompletedTask;
    }

    private Task OnRoleAsync(string column, string? role)
    {
        if (scoredAtColumn == column) scoredAtColumn = null;
        customColumns.Remove(column);
        fields.Remove(column);
        switch (role)
        {
            case null or Skip: break;
            case ScoredAtRole: scoredAtColumn = column; break;
            case Custom:
                customColumns.Add(column);
                fields[column] = new string(column.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray()).Trim('_');
                break;
            default:
                // A standard field belongs to one column: the column that had it loses it.
                foreach (var other in fields.Where(kv => kv.Value == role && !customColumns.Contains(kv.Key)).Select(kv => kv.Key).ToList()) fields.Remove(other);
                fields[column] = role;
                break;
        }
        Validate();
        return Task.CompletedTask;
    }

    private Task OnCustomAsync(string column, string? value)
    {
        fields[column] = value?.Trim() ?? "";
        Validate();
        return Task.CompletedTask;
    }

    private void Validate()
    {
        errors = InsightImportService.Check(Request(), Preview.Columns);
        if (!errors.ContainsKey("name") && name is not null && ModelNames.Contains(name.Trim(), StringComparer.OrdinalIgnoreCase))
            errors["name"] = [$"The model '{name.Trim()}' writes insights.{name.Trim()}; pick another name."];
        if (!errors.ContainsKey("identity.namespace") && identityNamespace is not null && Namespaces.All(n => n.Code != identityNamespace))
            errors["identity.namespace"] = [$"Unknown identity namespace '{identityNamespace}'."];
    }

    private bool Has(string key) => errors.ContainsKey(key);

    private string? ErrorOf(string key) => errors.TryGetValue(key, out var m) ? string.Join(" ", m) : null;

    private async Task SubmitAsync()
    {
        Validate();
        if (errors.Count > 0) return;
        await OnSubmit.InvokeAsync(Request());
    }
}
