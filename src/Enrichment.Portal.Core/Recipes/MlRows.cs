using System.ComponentModel;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Enrichment.Portal.Core.Recipes;

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
public sealed class ReasonRow
{
    public float Score { get; set; }
    public float[] FeatureContributions { get; set; } = [];
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
