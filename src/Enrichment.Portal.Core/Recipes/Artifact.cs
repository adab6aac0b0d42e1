using System.ComponentModel;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>BG/NBD parameters (Fader, Hardie &amp; Lee 2005), in the run's time unit.</summary>
public sealed record BgnbdParameters(double R, double Alpha, double A, double B);

/// <summary>Gamma-Gamma spend parameters (Fader, Hardie &amp; Lee 2005, "RFM and CLV"); v is the gamma scale of the spend rate prior.</summary>
public sealed record GammaGammaParameters(double P, double Q, double V);

/// <summary>Recipe state of a CLV model.</summary>
/// <param name="LogTarget">Regression: the trees predict log(1 + spend) (false: spend, as versions before it was chosen).</param>
public sealed record ClvState(string Method, double Horizon, string TimeUnit, double? DiscountRate, BgnbdParameters? Bgnbd, GammaGammaParameters? GammaGamma, double FallbackSpend, bool LogTarget = false);

/// <summary>Recipe state of an affinity model: half-life of the recency weight, N, and the association rules kept.</summary>
public sealed record AffinityState(string ItemField, double HalfLifeDays, int TopN, IReadOnlyList<string> Popular, IReadOnlyList<AssociationRule> Rules);

/// <summary>Recipe state of an engagement model: inner quintile cut points of recency (days), frequency and monetary.</summary>
public sealed record EngagementState(IReadOnlyList<double> RecencyCuts, IReadOnlyList<double> FrequencyCuts, IReadOnlyList<double>? MonetaryCuts);

/// <summary>Recipe state of a segmentation model: standardization and cluster descriptions (segment numbers are 1-based).</summary>
public sealed record SegmentationState(IReadOnlyList<string> Features, IReadOnlyList<double> Means, IReadOnlyList<double> Stds, IReadOnlyList<string> Descriptions);

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
}

/// <summary>Reads and writes model artifacts (a zip of <c>manifest.json</c> and, for ML.NET models, <c>model.zip</c>).</summary>
public static class ModelArtifact
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    internal static byte[] Write(ModelManifest manifest, MLContext? ml = null, ITransformer? model = null, DataViewSchema? schema = null)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var s = zip.CreateEntry("manifest.json").Open()) JsonSerializer.Serialize(s, manifest, Json);
            if (model is not null)
                using (var s = zip.CreateEntry("model.zip").Open()) ml!.Model.Save(model, schema, s);
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

    internal static ITransformer? ReadModel(byte[] artifact, MLContext ml)
    {
        using var zip = new ZipArchive(new MemoryStream(artifact), ZipArchiveMode.Read);
        var entry = zip.GetEntry("model.zip");
        if (entry is null) return null;
        using var buffer = new MemoryStream();
        using (var s = entry.Open()) s.CopyTo(buffer);
        buffer.Position = 0;
        return ml.Model.Load(buffer, out _);
    }
}

/// <summary>ML.NET row types (public because ML.NET generates code against them; not part of the API).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class BinaryRow
{
    public bool Label { get; set; }
    public float Weight { get; set; }
    public float[] Features { get; set; } = [];
}

[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RegressionRow
{
    public float Label { get; set; }
    public float Weight { get; set; }
    public float[] Features { get; set; } = [];
}

[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FeatureRow
{
    public float[] Features { get; set; } = [];
}

[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ScoreRow
{
    public float Score { get; set; }
}

[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ClusterRow
{
    public uint PredictedLabel { get; set; }
}

internal static class MlRows
{
    public static Microsoft.ML.Data.SchemaDefinition Schema<T>(int width)
    {
        var sd = Microsoft.ML.Data.SchemaDefinition.Create(typeof(T));
        sd["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return sd;
    }

    public static IDataView Load<T>(MLContext ml, IEnumerable<T> rows, int width) where T : class =>
        ml.Data.LoadFromEnumerable(rows, Schema<T>(width));

    /// <summary>The float "Score" column of a transformed view, in row order.</summary>
    public static double[] Scores(IDataView scored)
    {
        var col = scored.Schema["Score"];
        var list = new List<double>();
        using var cursor = scored.GetRowCursor([col]);
        var getter = cursor.GetGetter<float>(col);
        float v = 0;
        while (cursor.MoveNext()) { getter(ref v); list.Add(v); }
        return list.ToArray();
    }
}
