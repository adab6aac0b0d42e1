namespace Enrichment.Portal.Web.Components.Models;

/// <summary>How a metric is shown: a title, one sentence for people, and its format.</summary>
public sealed record MetricInfo(string Title, string Help)
{
    private static readonly string[] Known = ["auc", "prAuc", "logLoss", "f1", "precision", "recall", "accuracy", "threshold", "lift10", "rmse", "mae", "r2", "gini", "silhouette", "k", "logLikelihood", "qini", "ate", "upliftTop10", "upliftTop30", "meanPredictedUplift"];

    private static readonly Dictionary<string, MetricInfo> Infos = new(StringComparer.Ordinal)
    {
        ["auc"] = new("AUC", "How well the score ranks positives above negatives: 0.5 is chance, 1 is perfect."),
        ["prAuc"] = new("PR AUC", "Area under the precision-recall curve; the positive rate is the chance level."),
        ["logLoss"] = new("Log loss", "How far the probabilities are from what happened; lower is better."),
        ["f1"] = new("F1", "Balance of precision and recall at the operating threshold."),
        ["precision"] = new("Precision", "Share of the predicted positives that are positive, at the operating threshold."),
        ["recall"] = new("Recall", "Share of the positives that are predicted positive, at the operating threshold."),
        ["accuracy"] = new("Accuracy", "Share of held-out rows classified right at the operating threshold."),
        ["threshold"] = new("Threshold", "The operating threshold: scores at or above it count as positive (F1-optimal on the training folds unless set)."),
        ["lift10"] = new("Lift top 10 %", "How many times more positives the top 10 % of scores hold than a random 10 %."),
        ["rmse"] = new("RMSE", "Typical prediction error (root mean squared); lower is better."),
        ["mae"] = new("MAE", "Mean absolute prediction error; lower is better."),
        ["r2"] = new("R²", "Share of the variation explained."),
        ["gini"] = new("Gini", "How well predictions rank customers by their actual value."),
        ["silhouette"] = new("Silhouette", "How well separated the segments are: from -1 to 1, higher is better."),
        ["k"] = new("Segments", "Number of segments."),
        ["logLikelihood"] = new("Log-likelihood", "Fit of the BG/NBD model to the calibration data."),
        ["qini"] = new("Qini", "Area between the Qini curve and random targeting (held out): above 0, ranking by uplift finds more extra conversions than random."),
        ["ate"] = new("Average effect", "Conversion of the treated minus the control rows (held out), in points: what random targeting gets."),
        ["upliftTop10"] = new("Uplift top 10 %", "Observed effect of the treatment among the 10 % with the highest predicted uplift, in points."),
        ["upliftTop30"] = new("Uplift top 30 %", "Observed effect of the treatment among the 30 % with the highest predicted uplift, in points."),
        ["meanPredictedUplift"] = new("Mean predicted uplift", "Average predicted uplift of the held-out rows, in points."),
    };

    public static MetricInfo For(string name) => Infos.GetValueOrDefault(name) ?? new(name, name);

    public static int Order(string name) => Array.IndexOf(Known, name) is var i and >= 0 ? i : Known.Length;

    public static string FormatValue(string name, double value) => name switch
    {
        "k" => Format.Count((long)Math.Round(value)),
        "logLikelihood" => Format.Number(value, 1),
        "ate" or "upliftTop10" or "upliftTop30" or "meanPredictedUplift" => Format.Number(value * 100, 2) + " pts",
        "qini" => Format.Number(value, 5),
        _ when Math.Abs(value) >= 1000 => Format.Number(value, 0),
        _ => Format.Number(value, 3),
    };
}
