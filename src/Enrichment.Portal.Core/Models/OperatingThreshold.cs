using System.Globalization;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Models;

/// <summary>
/// Moves a binary version's operating threshold after training: F1, precision, recall, accuracy, the confusion counts,
/// the grade and its reasons are recomputed from the held-out threshold table stored with the run (no retraining; the
/// scores do not change, only where "predicted positive" starts).
/// </summary>
internal static class OperatingThreshold
{
    public static void Apply(TrainingRun run, ModelVersion version, double threshold)
    {
        var rules = new Dictionary<string, string[]>();
        if (!(threshold > 0 && threshold < 1)) rules["threshold"] = ["threshold must be between 0 and 1 (exclusive)."];
        var charts = ModelJson.Read<ModelCharts>(run.ChartsJson);
        if (charts is null || charts.Thresholds.Count == 0)
            rules["threshold"] = ["This version has no threshold table (only propensity and churn versions trained by this release have one)."];
        if (rules.Count > 0) throw Catalog.CatalogException.Rule(rules.Values.First()[0], rules);
        var t = Math.Round(threshold, 2);
        var row = charts!.Thresholds.MinBy(c => Math.Abs(c.Threshold - t))!;
        var metrics = ModelJson.Numbers(version.MetricsJson).ToDictionary(kv => kv.Key, kv => kv.Value);
        var baseline = ModelJson.Numbers(version.BaselineJson);
        Thresholds.AddAt(metrics, row);
        var rule = charts.BaselineRule is { } b && b.StartsWith("best single column '", StringComparison.Ordinal) ? b["best single column '".Length..^1] : null;
        var grade = Grades.Classification(metrics, baseline, row, rule);
        var reasons = grade.Reasons.Append(string.Create(CultureInfo.InvariantCulture, $"Threshold set to {row.Threshold:0.00} after training.")).ToArray();
        var updated = charts with { Confusion = row, GradeReasons = reasons };
        version.MetricsJson = run.MetricsJson = ModelJson.Write(metrics);
        version.Grade = run.Grade = grade.Grade;
        run.ChartsJson = ModelJson.Write(updated);
    }
}
