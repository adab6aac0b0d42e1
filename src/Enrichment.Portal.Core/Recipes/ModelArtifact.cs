using System.ComponentModel;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>The manifest of a model artifact: its input schema and all recipe state scoring needs.</summary>
public sealed record ModelManifest
{
    public required Recipe Recipe { get; init; }
    public required string Trainer { get; init; }
    /// <summary>The key column of the profile-like input (null: outputs are keyed by the event customer column or the row number).</summary>
    public string? KeyField { get; init; }
    /// <summary>The input schema: the source fields the model reads.</summary>
    public IReadOnlyList<SchemaField> InputFields { get; init; } = [];
    public FeaturePlan? Plan { get; init; }
    /// <summary>Platt calibration of the raw score: p = 1 / (1 + exp(A * s + B)).</summary>
    public double PlattA { get; init; } = -1;
    public double PlattB { get; init; }
    public EventColumns? Events { get; init; }
    public IReadOnlyList<string> EventTypes { get; init; } = [];
    public bool UsesEventFeatures { get; init; }
    public DateTime? TrainingCutoff { get; init; }
    public ClvState? Clv { get; init; }
    public AffinityState? Affinity { get; init; }
    public EngagementState? Engagement { get; init; }
    public SegmentationState? Segmentation { get; init; }
    /// <summary>Binary models saved with their feature contribution calculator: the per-slot training means (null: no reasons).</summary>
    public ReasonState? Reasons { get; init; }
    public UpliftState? Uplift { get; init; }
    /// <summary>Recipe custom: the uploaded ONNX model's mapping (the model itself is <c>model.onnx</c> in the artifact).</summary>
    public OnnxState? Onnx { get; init; }
}

/// <summary>Reads and writes model artifacts (a zip of <c>manifest.json</c> and, for ML.NET models, <c>model.zip</c>).</summary>
public static class ModelArtifact
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Writes the artifact; <paramref name="second"/> (uplift: the control model) goes to <c>control.zip</c>.</summary>
    internal static byte[] Write(ModelManifest manifest, MLContext? ml = null, ITransformer? model = null, DataViewSchema? schema = null, ITransformer? second = null)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var s = zip.CreateEntry("manifest.json").Open()) JsonSerializer.Serialize(s, manifest, Json);
            if (model is not null)
                using (var s = zip.CreateEntry("model.zip").Open()) ml!.Model.Save(model, schema, s);
            if (second is not null)
                using (var s = zip.CreateEntry("control.zip").Open()) ml!.Model.Save(second, schema, s);
        }
        return ms.ToArray();
    }

    /// <summary>The manifest of an artifact (e.g. to show the input schema).</summary>
    public static ModelManifest ReadManifest(byte[] artifact)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(artifact), ZipArchiveMode.Read);
            var entry = zip.GetEntry("manifest.json") ?? throw new InvalidDataException("manifest.json missing");
            using var s = entry.Open();
            return JsonSerializer.Deserialize<ModelManifest>(s, Json) ?? throw new InvalidDataException("empty manifest");
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            throw new ModelTrainingException("Not a model artifact: " + e.Message);
        }
    }

    /// <summary>An artifact of an uploaded ONNX model: the manifest and <c>model.onnx</c>, unchanged.</summary>
    public static byte[] WriteOnnx(ModelManifest manifest, byte[] onnx)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var s = zip.CreateEntry("manifest.json").Open()) JsonSerializer.Serialize(s, manifest, Json);
            using (var s = zip.CreateEntry("model.onnx", CompressionLevel.Fastest).Open()) s.Write(onnx);
        }
        return ms.ToArray();
    }

    internal static byte[] ReadOnnx(byte[] artifact)
    {
        using var zip = new ZipArchive(new MemoryStream(artifact), ZipArchiveMode.Read);
        var entry = zip.GetEntry("model.onnx") ?? throw new ModelTrainingException("The artifact has no model.onnx.");
        using var buffer = new MemoryStream();
        using (var s = entry.Open()) s.CopyTo(buffer);
        return buffer.ToArray();
    }

    internal static ITransformer? ReadModel(byte[] artifact, MLContext ml, string name = "model.zip")
    {
        using var zip = new ZipArchive(new MemoryStream(artifact), ZipArchiveMode.Read);
        var entry = zip.GetEntry(name);
        if (entry is null) return null;
        using var buffer = new MemoryStream();
        using (var s = entry.Open()) s.CopyTo(buffer);
        buffer.Position = 0;
        return ml.Model.Load(buffer, out _);
    }
}
