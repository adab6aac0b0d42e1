using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Microsoft.ML.Transforms;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// One of a profile's top contributing features: the source column, how its value reads ("high", "low", "= month-to-month",
/// "missing", "recent", "long ago"), its contribution to the model's raw score (log-odds scale for binary models; positive
/// raises the score) relative to the average training profile, and the value itself as text.
/// </summary>
public sealed record ScoreReason(string Feature, string Direction, double Contribution, string? Value);

/// <summary>Per-slot mean contribution over the training rows (subtracted so a contribution is relative to the average profile).</summary>
public sealed record ReasonState(IReadOnlyList<double> MeanContributions);

/// <summary>
/// Per-profile reasons, computed at scoring time by ML.NET's feature contribution calculation
/// (<c>FeatureContributionCalculatingEstimator</c>), appended to the fitted model before it is saved: for the tree models
/// (LightGbm, FastTree) the contribution of a feature is the change of the node values along the row's path through each tree
/// at the splits on that feature; for the logistic regression it is weight × normalized value. The contributions of a source
/// column's slots (one-hot levels, missing indicator) are summed, the training mean of each is subtracted, and the
/// <see cref="Top"/> largest in absolute value are the reasons.
/// </summary>
internal static class Reasons
{
    public const string Column = "FeatureContributions";
    public const int Top = 3;
    /// <summary>The mean contributions are taken on at most this many training rows.</summary>
    public const int MaxMeanRows = 5_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The fitted binary model followed by the contribution calculator, or null for a model type without contributions.</summary>
    public static ITransformer? Attach(MLContext ml, ITransformer model, IDataView trainView, int width)
    {
        var last = model is IEnumerable<ITransformer> chain ? chain.Last() : model;
        FeatureContributionCalculatingEstimator? estimator = last switch
        {
            BinaryPredictionTransformer<CalibratedModelParametersBase<LightGbmBinaryModelParameters, PlattCalibrator>> t => ml.Transforms.CalculateFeatureContribution(t, width, width, normalize: false),
            BinaryPredictionTransformer<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>> t => ml.Transforms.CalculateFeatureContribution(t, width, width, normalize: false),
            BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>> t => ml.Transforms.CalculateFeatureContribution(t, width, width, normalize: false),
            RegressionPredictionTransformer<LightGbmRegressionModelParameters> t => ml.Transforms.CalculateFeatureContribution(t, width, width, normalize: false),
            _ => null,
        };
        if (estimator is null) return null;
        var fcc = estimator.Fit(model.Transform(trainView));
        return new TransformerChain<ITransformer>([model, fcc]);
    }

    /// <summary>The mean contribution of every slot over <paramref name="rows"/> (scored with the model with contributions).</summary>
    public static ReasonState Learn(MLContext ml, ITransformer withContributions, float[][] x, IReadOnlyList<int> rows, int width)
    {
        var sums = new double[width];
        var n = 0;
        foreach (var c in Contributions(withContributions.Transform(MlRows.Load(ml, rows.Select(r => new FeatureRow { Features = x[r] }), width)), width))
        {
            for (var j = 0; j < width; j++) sums[j] += c[j];
            n++;
        }
        return new ReasonState(sums.Select(s => n == 0 ? 0 : s / n).ToArray());
    }

    /// <summary>The dense contribution vectors of a transformed view, in row order.</summary>
    public static IEnumerable<float[]> Contributions(IDataView scored, int width)
    {
        var col = scored.Schema[Column];
        using var cursor = scored.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        var buffer = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            var dense = new float[width];
            buffer.CopyTo(dense);
            yield return dense;
        }
    }

    /// <summary>The contribution of every source column (its slots summed, training means subtracted), in plan order.</summary>
    public static double[] PerFeature(FeaturePlan plan, ReasonState state, float[] contributions)
    {
        var offsets = plan.Offsets();
        var result = new double[plan.Specs.Count];
        for (var s = 0; s < plan.Specs.Count; s++)
            for (var j = offsets[s]; j < offsets[s] + plan.Specs[s].Width; j++)
                result[s] += contributions[j] - state.MeanContributions[j];
        return result;
    }

    /// <summary>The <see cref="Top"/> reasons of one row: <paramref name="raw"/> gives the source value of spec i.</summary>
    public static IReadOnlyList<ScoreReason> Explain(FeaturePlan plan, ReasonState state, float[] contributions, Func<int, object?> raw, DateTime reference)
    {
        var per = PerFeature(plan, state, contributions);
        return Enumerable.Range(0, per.Length).Where(i => per[i] != 0).OrderByDescending(i => Math.Abs(per[i])).ThenBy(i => i).Take(Top)
            .Select(i => Describe(plan.Specs[i], raw(i), per[i], reference)).ToArray();
    }

    public static ScoreReason Describe(FeatureSpec spec, object? raw, double contribution, DateTime reference)
    {
        var text = ModelLake.ToText(raw);
        string direction;
        switch (spec.Kind)
        {
            case FeatureKind.Numeric:
                direction = ModelLake.ToDouble(raw) is { } d ? d >= spec.Fill ? "high" : "low" : "missing";
                break;
            case FeatureKind.Date:
                direction = ModelLake.ToDate(raw) is { } dt ? (reference - dt).TotalDays >= spec.Fill ? "long ago" : "recent" : "missing";
                if (ModelLake.ToDate(raw) is { } shown) text = shown.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                break;
            default:
                direction = text is null ? "missing" : "= " + text;
                break;
        }
        return new ScoreReason(spec.Name, direction, Math.Round(contribution, 4), text);
    }

    public static string ToJson(IReadOnlyList<ScoreReason> reasons) => JsonSerializer.Serialize(reasons, Json);

    /// <summary>DuckDB's <c>from_json</c> structure of the reasons column (a list of structs in the scores Parquet file).</summary>
    public const string DuckDbShape = "[{\"feature\":\"VARCHAR\",\"direction\":\"VARCHAR\",\"contribution\":\"DOUBLE\",\"value\":\"VARCHAR\"}]";
}
