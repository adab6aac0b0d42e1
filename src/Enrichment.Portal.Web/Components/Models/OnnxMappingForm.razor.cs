using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.AspNetCore.Components;

namespace Enrichment.Portal.Web.Components.Models;

/// <summary>Maps an inspected ONNX model onto the source fields; submits an <see cref="OnnxMappingRequest"/>. Errors (by part: inputs.&lt;name&gt;, output, insight ...) are shown where they belong.</summary>
public sealed partial class OnnxMappingForm
{
    [Parameter, EditorRequired] public OnnxInspection Inspection { get; set; } = default!;
    [Parameter] public string ModelName { get; set; } = "model";
    [Parameter] public IReadOnlyDictionary<string, string[]>? Errors { get; set; }
    [Parameter] public bool Busy { get; set; }
    [Parameter] public EventCallback<OnnxMappingRequest> OnSubmit { get; set; }

    private readonly Dictionary<string, string?[]> fields = new(StringComparer.Ordinal);
    private string? output, outputKey;
    private string kind = "score", insight = "score";
    private int? outputIndex;
    private OnnxInspection? loaded;

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(loaded, Inspection)) return;
        loaded = Inspection;
        fields.Clear();
        foreach (var i in Inspection.Signature.Inputs.Where(i => i.Problem is null))
        {
            var chosen = new string?[i.Width];
            if (Inspection.Suggested.Inputs?.TryGetValue(i.Name, out var s) == true)
                for (var c = 0; c < Math.Min(chosen.Length, s.Count); c++) chosen[c] = s[c];
            fields[i.Name] = chosen;
        }
        output = Inspection.Suggested.Output;
        outputIndex = Inspection.Suggested.OutputIndex;
        kind = Inspection.Suggested.Kind ?? "score";
        insight = Inspection.Suggested.Insight ?? kind;
    }

    private OnnxPort? SelectedOutput => Inspection.Signature.Outputs.FirstOrDefault(o => o.Name == output);

    private string? Chosen(string input, int col) => fields.TryGetValue(input, out var f) ? f[col] : null;

    private void Choose(string input, int col, string? value)
    {
        if (fields.TryGetValue(input, out var f)) f[col] = value;
    }

    /// <summary>Fields that can feed the input (numbers for numeric inputs; any scalar for text inputs).</summary>
    private IEnumerable<SchemaField> FieldsFor(OnnxPort input) =>
        Inspection.Fields.Where(f => f.Type is not (FieldType.Array or FieldType.Map or FieldType.Object) && OnnxSignature.Mismatch(f.Type, input.ElementType) is null);

    private void OnOutput(string value)
    {
        output = value;
        var o = SelectedOutput;
        outputIndex = o is { Kind: "tensor", Width: 2 } ? 1 : null;
        var was = kind;
        kind = o is null ? kind : o.Kind == "sequence-map" || (o.ElementType is "float" or "double" && o.Width == 2) ? "score" : o.ElementType is "float" or "double" ? "value" : "class";
        if (insight == was) insight = kind;
    }

    private static string Hint(OnnxPort o) => o.Kind == "sequence-map" ? "class probabilities (pick a class)"
        : o.Width == 2 && o.ElementType is "float" or "double" ? "two columns: probabilities of class 0 and 1"
        : o.ElementType is "int64" or "string" ? "labels" : "";

    private string? ErrorFor(string key) => Errors?.TryGetValue(key, out var e) == true ? string.Join(" ", e) : null;

    private Task SubmitAsync() => OnSubmit.InvokeAsync(new OnnxMappingRequest
    {
        Inputs = fields.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.Select(v => v ?? "").ToList(), StringComparer.Ordinal),
        Output = output, OutputIndex = outputIndex, OutputKey = string.IsNullOrWhiteSpace(outputKey) ? null : outputKey.Trim(), Kind = kind, Insight = insight,
    });
}
