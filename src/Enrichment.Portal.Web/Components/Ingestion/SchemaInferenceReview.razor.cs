using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Schemas;
using Microsoft.AspNetCore.Components;

namespace Enrichment.Portal.Web.Components.Ingestion;

/// <summary>What the user kept of an inferred schema: the fields, and the column -> field mapping for the upload.</summary>
public sealed record ReviewedSchema(IReadOnlyList<SchemaField> Fields, IReadOnlyDictionary<string, string> Mapping);

/// <summary>Review of <see cref="SchemaInference"/>'s suggestion before it is saved (the caller saves).</summary>
public sealed partial class SchemaInferenceReview
{
    [Parameter, EditorRequired] public InferredSchema Inferred { get; set; } = default!;
    [Parameter] public EventCallback<ReviewedSchema> OnUse { get; set; }
    [Parameter] public string UseLabel { get; set; } = "Use these fields";
    /// <summary>Namespaces to offer (codes); the built-in ones by default.</summary>
    [Parameter] public IReadOnlyList<string>? Namespaces { get; set; }
    /// <summary>Paths that already exist (adding to a schema): a kept field may not reuse them.</summary>
    [Parameter] public IReadOnlyCollection<string> TakenPaths { get; set; } = [];
    /// <summary>Whether exactly one primary identity is required (a new profile schema).</summary>
    [Parameter] public bool RequirePrimary { get; set; } = true;

    private static readonly FieldType[] Types = [FieldType.String, FieldType.Integer, FieldType.Number, FieldType.Boolean, FieldType.Date, FieldType.DateTime];

    private sealed class Row
    {
        public required string Column { get; init; }
        public required IReadOnlyList<string> Examples { get; init; }
        public string? Reason { get; init; }
        public bool Required { get; init; }
        public bool Keep { get; set; } = true;
        public string Path { get; set; } = "";
        public FieldType Type { get; set; }
        public string? Namespace { get; set; }
        public bool Primary { get; set; }
    }

    private List<Row> rows = [];
    private InferredSchema? shown;

    private IReadOnlyList<string> NamespaceCodes => Namespaces ?? BuiltInNamespaces.All.Select(n => n.Code).ToList();
    private string FormatName => Inferred.Format switch
    {
        InputFormat.Csv => Inferred.Delimiter == ',' ? "CSV" : $"CSV, delimiter '{(Inferred.Delimiter == '\t' ? "tab" : Inferred.Delimiter.ToString())}'",
        InputFormat.JsonLines => "JSON lines",
        InputFormat.JsonArray => "JSON array",
        InputFormat.Parquet => "Parquet",
        _ => "file",
    };

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(shown, Inferred)) return;
        shown = Inferred;
        rows = Inferred.Fields.Select(f => new Row
        {
            Column = f.Column, Examples = f.Examples, Reason = f.Reason, Required = f.Required,
            Path = f.Path, Type = f.Type, Namespace = f.Identity?.Namespace, Primary = f.Identity?.Primary == true,
            Keep = !TakenPaths.Contains(f.Path, StringComparer.OrdinalIgnoreCase),
        }).ToList();
    }

    internal static string Label(FieldType t) => t switch
    {
        FieldType.String => "text",
        FieldType.Integer => "integer",
        FieldType.Number => "number",
        FieldType.Boolean => "yes / no",
        FieldType.Date => "date",
        FieldType.DateTime => "date and time",
        _ => t.ToString().ToLowerInvariant(),
    };

    private void SetPrimary(Row row, bool on)
    {
        if (!on) { row.Primary = false; return; }
        if (!row.Keep || row.Namespace is null) return;
        foreach (var r in rows) r.Primary = ReferenceEquals(r, row);
    }

    private void Changed() { }

    /// <summary>What blocks using the fields, in sentences.</summary>
    private IReadOnlyList<string> Problems
    {
        get
        {
            var kept = rows.Where(r => r.Keep).ToList();
            var list = new List<string>();
            if (kept.Count == 0) list.Add("Keep at least one column.");
            foreach (var r in kept.Where(r => !SchemaPaths.IsValidPath(r.Path)))
                list.Add($"The field name '{r.Path}' (column {r.Column}) is not valid: use letters, digits, '_' or '-', starting with a letter; dots nest.");
            foreach (var g in kept.GroupBy(r => r.Path, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
                list.Add($"The field name '{g.Key}' is used by {string.Join(" and ", g.Select(r => r.Column))}.");
            foreach (var r in kept.Where(r => TakenPaths.Contains(r.Path, StringComparer.OrdinalIgnoreCase)))
                list.Add($"The schema already has a field '{r.Path}': rename the field of column {r.Column} or drop it.");
            if (RequirePrimary && !kept.Any(r => r.Primary && r.Namespace is not null))
                list.Add("Choose a primary identity: the identifier every record carries (set an identity namespace on a column, then mark it primary).");
            return list;
        }
    }

    private Task UseAsync()
    {
        if (Problems.Count > 0) return Task.CompletedTask;
        var kept = rows.Where(r => r.Keep).ToList();
        var fields = kept.Select(r => new SchemaField
        {
            Path = r.Path,
            Type = r.Namespace is null ? r.Type : FieldType.String,
            Required = r.Primary && r.Required,
            Identity = r.Namespace is null ? null : new IdentityMapping(r.Namespace, r.Primary),
        }).ToList();
        return OnUse.InvokeAsync(new ReviewedSchema(fields, kept.ToDictionary(r => r.Column, r => r.Path, StringComparer.Ordinal)));
    }
}
