using System.Text.RegularExpressions;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// What the user chose for an uploaded ONNX model (API.md: <c>mapping</c>): each input's dataset field(s) (one per column of a
/// [N,k] input, in order), the output that becomes the insight and, for a 2-D output, its column (<see cref="OutputIndex"/>)
/// or, for a ZipMap output, its class (<see cref="OutputKey"/>); what the insight is (<c>score</c>, <c>value</c> or
/// <c>class</c>) and its name under <c>insights.&lt;model&gt;</c>.
/// </summary>
public sealed record OnnxMappingRequest
{
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Inputs { get; init; }
    public string? Output { get; init; }
    public int? OutputIndex { get; init; }
    public string? OutputKey { get; init; }
    /// <summary><c>score</c> (a probability in [0,1]), <c>value</c> (a number) or <c>class</c> (a label); default from the output.</summary>
    public string? Kind { get; init; }
    /// <summary>The key under <c>insights.&lt;model&gt;</c>; default: the kind.</summary>
    public string? Insight { get; init; }
}

/// <summary>One model input bound to source fields: <see cref="Width"/> columns, [N] when <see cref="Rank1"/> else [N,Width].</summary>
public sealed record OnnxInputBinding(string Name, string ElementType, int Width, bool Rank1, IReadOnlyList<string> Fields);

/// <summary>The manifest part of an ONNX model version: how to feed it and which output becomes the insight.</summary>
public sealed record OnnxState(
    IReadOnlyList<OnnxInputBinding> Inputs, string Output, string OutputKind, string OutputElementType, int OutputColumn, string? OutputKey,
    string InsightKind, string Insight, OnnxSignature Signature);

/// <summary>Suggests and checks mappings of an ONNX signature onto the fields of a dataset or snapshot.</summary>
public static partial class OnnxMapper
{
    public static readonly IReadOnlyList<string> Kinds = ["score", "value", "class"];

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,39}$")]
    private static partial Regex InsightName();

    private static string Norm(string s) => new(s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());

    /// <summary>The field an input name matches (case-insensitive, then ignoring '_', '.', spaces, then the last path segment), or null.</summary>
    public static string? MatchField(string input, IReadOnlyList<SchemaField> fields) =>
        fields.FirstOrDefault(f => string.Equals(f.Path, input, StringComparison.OrdinalIgnoreCase))?.Path
        ?? fields.FirstOrDefault(f => Norm(f.Path) == Norm(input))?.Path
        ?? fields.FirstOrDefault(f => Norm(f.Path.Split('.')[^1]) == Norm(input))?.Path;

    /// <summary>A first mapping: inputs matched by name, the likely score output (probabilities, positive class), the insight named after its kind.</summary>
    public static OnnxMappingRequest Suggest(OnnxSignature sig, IReadOnlyList<SchemaField> fields)
    {
        var inputs = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var i in sig.Inputs.Where(i => i.Problem is null))
        {
            if (i.Width == 1 && MatchField(i.Name, fields) is { } f) inputs[i.Name] = [f];
            else if (i.Width > 1)
            {
                // [N,k] inputs named per column (<name>_0 ...) are rare; match what we can, leave the rest to the user.
                var cols = Enumerable.Range(0, i.Width).Select(c => MatchField($"{i.Name}_{c}", fields)).ToList();
                if (cols.All(c => c is not null)) inputs[i.Name] = cols!;
            }
        }
        var (output, kind, index) = DefaultOutput(sig);
        return new OnnxMappingRequest { Inputs = inputs, Output = output?.Name, OutputIndex = index, Kind = kind, Insight = kind };
    }

    private static (OnnxPort? Port, string Kind, int? Index) DefaultOutput(OnnxSignature sig)
    {
        var usable = sig.Outputs.Where(o => o.Problem is null).ToList();
        bool Prob(OnnxPort o) => o.Name.Contains("prob", StringComparison.OrdinalIgnoreCase);
        if (usable.FirstOrDefault(o => o.Kind == "sequence-map") is { } zip) return (zip, "score", null);
        if (usable.FirstOrDefault(o => o.ElementType is "float" or "double" && o.Width == 2) is { } two) return (two, "score", 1);
        if (usable.FirstOrDefault(o => o.ElementType is "float" or "double" && Prob(o)) is { } p) return (p, "score", p.Width > 1 ? p.Width - 1 : null);
        if (usable.FirstOrDefault(o => o.ElementType is "float" or "double" && o.Width == 1) is { } v) return (v, "value", null);
        if (usable.FirstOrDefault(o => o.Width == 1) is { } c) return (c, "class", null);
        return (usable.FirstOrDefault(), "value", null);
    }

    /// <summary>Checks a mapping against the signature and the source fields; every problem is named by the input or output at fault.</summary>
    public static OnnxState Resolve(OnnxSignature sig, OnnxMappingRequest req, IReadOnlyList<SchemaField> fields, string sourceName)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var byPath = fields.GroupBy(f => f.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var mapping = req.Inputs ?? new Dictionary<string, IReadOnlyList<string>>();
        foreach (var name in mapping.Keys.Where(k => sig.Inputs.All(i => i.Name != k)))
            errors["inputs." + name] = [$"The model has no input '{name}'; its inputs: {string.Join(", ", sig.Inputs.Select(i => i.Name))}."];
        var bindings = new List<OnnxInputBinding>();
        foreach (var input in sig.Inputs)
        {
            var key = "inputs." + input.Name;
            var describe = $"'{input.Name}' ({input.ElementType} {OnnxSignature.ShapeText(input.Shape)})";
            if (input.Problem is not null) { errors[key] = [input.Problem]; continue; }
            if (!mapping.TryGetValue(input.Name, out var chosen) || chosen.Count == 0 || chosen.All(string.IsNullOrWhiteSpace))
            {
                errors[key] = [$"The input {describe} is not mapped: choose {(input.Width == 1 ? "the field" : $"{input.Width} fields, one per column,")} of '{sourceName}' it reads."];
                continue;
            }
            if (chosen.Count != input.Width)
            {
                errors[key] = [$"The input {describe} takes {input.Width} column(s) per row; {chosen.Count} field(s) were given."];
                continue;
            }
            var problems = new List<string>();
            foreach (var path in chosen)
            {
                if (string.IsNullOrWhiteSpace(path)) { problems.Add($"a column of the input {describe} is not mapped."); continue; }
                if (!byPath.TryGetValue(path, out var field)) { problems.Add($"'{path}' is not a field of '{sourceName}'."); continue; }
                if (OnnxSignature.Mismatch(field.Type, input.ElementType) is { } why)
                    problems.Add($"Type mismatch: '{path}' is a {field.Type.ToString().ToLowerInvariant()} field and the input {describe} takes {input.ElementType}: {why}.");
            }
            if (problems.Count > 0) { errors[key] = problems.ToArray(); continue; }
            bindings.Add(new OnnxInputBinding(input.Name, input.ElementType, input.Width, input.Shape.Count == 1, chosen.ToList()));
        }

        var (defPort, defKind, defIndex) = DefaultOutput(sig);
        var outputName = string.IsNullOrWhiteSpace(req.Output) ? defPort?.Name : req.Output.Trim();
        var output = sig.Outputs.FirstOrDefault(o => o.Name == outputName);
        var kind = string.IsNullOrWhiteSpace(req.Kind) ? (output == defPort ? defKind : output?.ElementType is "float" or "double" ? "value" : "class") : req.Kind.Trim().ToLowerInvariant();
        var column = 0;
        if (!Kinds.Contains(kind)) errors["kind"] = [$"kind must be one of {string.Join(", ", Kinds)}; got '{req.Kind}'."];
        if (output is null)
            errors["output"] = [outputName is null ? "The model has no output the portal can read." : $"The model has no output '{outputName}'; its outputs: {string.Join(", ", sig.Outputs.Select(o => o.Name))}."];
        else if (output.Problem is not null) errors["output"] = [output.Problem];
        else
        {
            if (kind is "score" or "value" && !output.IsNumeric && output.Kind != "sequence-map")
                errors["output"] = [$"The output '{output.Name}' holds {output.ElementType} values; a {kind} needs a number output (choose kind 'class' for labels)."];
            if (output.Kind == "tensor" && output.Shape.Count == 2 && output.Width != 1)
            {
                var index = req.OutputIndex ?? (output == defPort ? defIndex : null) ?? (output.Width == 2 ? 1 : null);
                if (index is null) errors["outputIndex"] = [$"The output '{output.Name}' {OnnxSignature.ShapeText(output.Shape)} has several columns: give outputIndex (e.g. the positive class)."];
                else if (index < 0 || (output.Width > 0 && index >= output.Width))
                    errors["outputIndex"] = [$"outputIndex {index} is outside the {output.Width} columns of '{output.Name}'."];
                else column = index.Value;
            }
            else if (req.OutputIndex is { } given && output.Kind == "tensor" && given != 0)
                errors["outputIndex"] = [$"The output '{output.Name}' {OnnxSignature.ShapeText(output.Shape)} has one column; outputIndex must be 0 or left out."];
        }
        var insight = string.IsNullOrWhiteSpace(req.Insight) ? kind : req.Insight.Trim();
        if (!InsightName().IsMatch(insight) || insight is "modelVersion" or "scoredAt")
            errors["insight"] = [$"The insight name '{insight}' must start with a letter and hold letters, digits and '_' only (at most 40), and not be modelVersion or scoredAt."];
        if (errors.Count > 0) throw new OnnxModelException(errors);
        var outputKey = output!.Kind == "sequence-map" ? (req.OutputKey ?? req.OutputIndex?.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null;
        return new OnnxState(bindings, output.Name, output.Kind, output.ElementType, column, outputKey, kind, insight, sig);
    }
}
