using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// One input or output of an ONNX model as the portal sees it. <see cref="Kind"/>: <c>tensor</c>, <c>sequence-map</c>
/// (a ZipMap output: one map class -> probability per row), or something else it does not serve. <see cref="Shape"/>: -1
/// for a dynamic dimension. <see cref="Problem"/> says, for people, why the portal cannot serve it (null: it can).
/// </summary>
public sealed record OnnxPort(string Name, string Kind, string ElementType, IReadOnlyList<long> Shape,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? KeyType = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Problem = null)
{
    /// <summary>Columns per row: 1 for [N] and [N,1], k for [N,k]; 0 when not fixed.</summary>
    public int Width => Shape.Count == 1 ? 1 : Shape.Count == 2 && Shape[1] > 0 ? (int)Shape[1] : 0;
    public bool IsNumeric => ElementType is "float" or "double" or "int64" or "int32" or "bool";
}

/// <summary>The input and output signature of an ONNX model.</summary>
public sealed record OnnxSignature(IReadOnlyList<OnnxPort> Inputs, IReadOnlyList<OnnxPort> Outputs, string? Producer = null)
{
    /// <summary>Element types an input may have (what dataset fields can be converted to).</summary>
    public static readonly IReadOnlyList<string> InputTypes = ["float", "double", "int64", "int32", "bool", "string"];

    /// <summary>Reads the signature of an ONNX model file. Throws <see cref="OnnxModelException"/> when the bytes are not a model ONNX Runtime can load.</summary>
    public static OnnxSignature Read(byte[] model)
    {
        using var session = OnnxSessions.Create(model);
        return From(session);
    }

    internal static OnnxSignature From(InferenceSession session)
    {
        var inputs = session.InputNames.Select(n => Input(n, session.InputMetadata[n])).ToList();
        var outputs = session.OutputNames.Select(n => Output(n, session.OutputMetadata[n])).ToList();
        string? producer = null;
        try { producer = session.ModelMetadata.ProducerName is { Length: > 0 } p ? p : null; } catch (OnnxRuntimeException) { }
        return new OnnxSignature(inputs, outputs, producer);
    }

    private static OnnxPort Input(string name, NodeMetadata m)
    {
        if (m.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR)
            return new OnnxPort(name, Kind(m.OnnxValueType), "", [], Problem: $"The input '{name}' is a {Kind(m.OnnxValueType)}, not a tensor; the portal feeds tensors of dataset fields only.");
        var type = TypeName(m.ElementDataType);
        var shape = m.Dimensions.Select(d => (long)d).ToArray();
        string? problem = null;
        if (!InputTypes.Contains(type)) problem = $"The input '{name}' has element type {type}; supported: {string.Join(", ", InputTypes)}.";
        else if (shape.Length is < 1 or > 2)
            problem = $"The input '{name}' has shape {ShapeText(shape)}; the portal serves [N] or [N,k] inputs (one row per profile, k fields), not rank {shape.Length}.";
        else if (shape[0] > 0)
            problem = $"The input '{name}' has a fixed batch dimension ({shape[0]}) in {ShapeText(shape)}; export the model with a dynamic first dimension (e.g. dynamic_axes / None) so rows can be batched.";
        else if (shape.Length == 2 && shape[1] <= 0)
            problem = $"The input '{name}' has shape {ShapeText(shape)}, whose second dimension is dynamic; the portal needs to know how many fields it takes (a fixed k).";
        return new OnnxPort(name, "tensor", type, shape, Problem: problem);
    }

    private static OnnxPort Output(string name, NodeMetadata m)
    {
        if (m.OnnxValueType == OnnxValueType.ONNX_TYPE_SEQUENCE)
        {
            var element = m.AsSequenceMetadata().ElementMeta;
            if (element.OnnxValueType == OnnxValueType.ONNX_TYPE_MAP)
            {
                var map = element.AsMapMetadata();
                var key = TypeName(map.KeyDataType);
                var value = map.ValueMetadata.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR ? TypeName(map.ValueMetadata.ElementDataType) : "";
                var problem = key is "int64" or "string" && value is "float" or "double" ? null
                    : $"The output '{name}' is a sequence of map({key}, {value}); the portal reads maps of int64 or string keys to float probabilities.";
                return new OnnxPort(name, "sequence-map", value, [-1], key, problem);
            }
            return new OnnxPort(name, "sequence", "", [], Problem: $"The output '{name}' is a sequence of {Kind(element.OnnxValueType)}; the portal reads tensors and ZipMap outputs.");
        }
        if (m.OnnxValueType != OnnxValueType.ONNX_TYPE_TENSOR)
            return new OnnxPort(name, Kind(m.OnnxValueType), "", [], Problem: $"The output '{name}' is a {Kind(m.OnnxValueType)}; the portal reads tensors and ZipMap outputs.");
        var type = TypeName(m.ElementDataType);
        var shape = m.Dimensions.Select(d => (long)d).ToArray();
        string? why = null;
        if (shape.Length is < 1 or > 2) why = $"The output '{name}' has shape {ShapeText(shape)}; the portal reads [N] or [N,k] outputs.";
        else if (type is not ("float" or "double" or "int64" or "int32" or "bool" or "string")) why = $"The output '{name}' has element type {type}.";
        return new OnnxPort(name, "tensor", type, shape, Problem: why);
    }

    public static string ShapeText(IReadOnlyList<long> shape) => "[" + string.Join(",", shape.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    private static string Kind(OnnxValueType t) => t switch
    {
        OnnxValueType.ONNX_TYPE_TENSOR => "tensor",
        OnnxValueType.ONNX_TYPE_SEQUENCE => "sequence",
        OnnxValueType.ONNX_TYPE_MAP => "map",
        OnnxValueType.ONNX_TYPE_SPARSETENSOR => "sparse tensor",
        OnnxValueType.ONNX_TYPE_OPTIONAL => "optional",
        _ => "value of unknown kind",
    };

    private static string TypeName(TensorElementType t) => t switch
    {
        TensorElementType.Float => "float",
        TensorElementType.Double => "double",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        TensorElementType.Bool => "bool",
        TensorElementType.String => "string",
        _ => t.ToString().ToLowerInvariant(),
    };

    /// <summary>Whether a dataset field of <paramref name="field"/> type can feed an input of <paramref name="element"/> type; null: yes, else why not.</summary>
    public static string? Mismatch(FieldType field, string element) => element switch
    {
        "float" or "double" when field is FieldType.Integer or FieldType.Number or FieldType.Boolean => null,
        "int64" or "int32" when field is FieldType.Integer or FieldType.Boolean => null,
        "int64" or "int32" when field is FieldType.Number => "a number field cannot feed a whole-number input without losing its fraction",
        "bool" when field is FieldType.Boolean => null,
        "string" when field is FieldType.String or FieldType.Integer or FieldType.Number or FieldType.Boolean or FieldType.Date or FieldType.DateTime => null,
        _ => $"a {field.ToString().ToLowerInvariant()} field cannot feed a {element} input",
    };
}

/// <summary>A model file or mapping the portal refuses; <see cref="Field"/> names the part at fault (e.g. <c>inputs.age</c>, <c>file</c>).</summary>
public sealed class OnnxModelException : Exception
{
    public OnnxModelException(string field, string message) : base(message) => Errors = new Dictionary<string, string[]> { [field] = [message] };
    public OnnxModelException(IReadOnlyDictionary<string, string[]> errors) : base(string.Join(" ", errors.SelectMany(e => e.Value))) => Errors = errors;
    /// <summary>Part at fault (<c>file</c>, <c>inputs.&lt;name&gt;</c>, <c>output</c>, <c>insight</c>) -> messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }
}

/// <summary>ONNX Runtime sessions: one thread per Run (the scorer parallelizes over batches itself).</summary>
internal static class OnnxSessions
{
    public static InferenceSession Create(byte[] model)
    {
        if (model.Length == 0) throw new OnnxModelException("file", "The file is empty.");
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        try { return new InferenceSession(model, options); }
        catch (OnnxRuntimeException e)
        {
            var first = e.Message.Split('\n')[0];
            throw new OnnxModelException("file", "The file is not an ONNX model ONNX Runtime can load: " + (first.Length > 300 ? first[..300] + "..." : first));
        }
    }
}
