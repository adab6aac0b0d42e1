using System.Globalization;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Tests.Recipes;

/// <summary>Grades that cannot mislead: degenerate models get no A, the baseline is a real rule, and the reasons are given.</summary>
public sealed class GradeRulesTests
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private static Dictionary<string, double> M(double auc, double logLoss, double f1) => new() { ["auc"] = auc, ["logLoss"] = logLoss, ["f1"] = f1 };

    [Fact]
    public void A_classifier_with_no_predicted_positive_is_a_c_whatever_its_auc()
    {
        // The reported case: AUC high, 0 predicted positives at the threshold, F1 0, accuracy equal to the baseline.
        var report = Grades.Classification(M(0.91, 0.20, 0), new Dictionary<string, double> { ["auc"] = 0.7, ["f1"] = 0.3, ["priorLogLoss"] = 0.35 },
            new ConfusionCounts(0.5, 0, 0, 9000, 1000), "tenure");
        Assert.Equal("C", report.Grade);
        Assert.Contains("No held-out row is predicted positive at threshold 0.500 (0 of 10,000)", report.Reasons[0]);

        // Predicted positives that are all wrong: F1 0, also a C.
        Assert.Equal("C", Grades.Classification(M(0.91, 0.20, 0), new Dictionary<string, double> { ["auc"] = 0.7, ["priorLogLoss"] = 0.35 },
            new ConfusionCounts(0.9, 0, 12, 8988, 1000), null).Grade);
    }

    [Fact]
    public void An_a_needs_to_beat_the_best_single_column_the_prior_log_loss_and_the_rule_f1()
    {
        var confusion = new ConfusionCounts(0.3, 600, 400, 8600, 400);
        var baseline = new Dictionary<string, double> { ["auc"] = 0.70, ["f1"] = 0.40, ["priorLogLoss"] = 0.33 };
        var a = Grades.Classification(M(0.85, 0.25, 0.60), baseline, confusion, "tenure");
        Assert.Equal("A", a.Grade);
        Assert.Contains(a.Reasons, r => r.Contains("beats the best single column 'tenure' (0.700", StringComparison.Ordinal));
        Assert.Contains(a.Reasons, r => r.StartsWith("At threshold 0.300: 1,000 of 10,000 held-out rows predicted positive, precision 0.600, recall 0.600, F1 0.600", StringComparison.Ordinal));

        // One column alone does as well: B, and the reason says what is missing.
        var b = Grades.Classification(M(0.85, 0.25, 0.60), new Dictionary<string, double>(baseline) { ["auc"] = 0.84 }, confusion, "tenure");
        Assert.Equal("B", b.Grade);
        Assert.Contains(b.Reasons, r => r.Contains("it must beat the single column", StringComparison.Ordinal));
        // Worse calibrated than the prior: B.
        Assert.Equal("B", Grades.Classification(M(0.85, 0.40, 0.60), baseline, confusion, "tenure").Grade);
        // No better than the column at all: C.
        Assert.Equal("C", Grades.Classification(M(0.68, 0.30, 0.45), baseline, confusion, "tenure").Grade);
    }

    private static ClusterInfo Cluster(int segment, int size, string description) => new(segment, size, description, new Dictionary<string, double>());

    [Fact]
    public void A_segmentation_with_one_cluster_holding_almost_every_row_is_a_c()
    {
        // The reported case: 19,834 of 19,988 rows in one "close to average" cluster, a high silhouette.
        var report = Grades.Segmentation(0.82, [Cluster(1, 19834, "close to average"), Cluster(2, 100, "high spend"), Cluster(3, 54, "high visits")]);
        Assert.Equal("C", report.Grade);
        Assert.Contains(report.Reasons, r => r.StartsWith("Largest segment 99.2 % of the rows ('close to average')", StringComparison.Ordinal));
        Assert.Contains(report.Reasons, r => r.Contains("90 % or more", StringComparison.Ordinal));

        Assert.Equal("C", Grades.Segmentation(0.6, [Cluster(1, 500, "close to average"), Cluster(2, 500, "close to average")]).Grade);
        // Unbalanced but not degenerate: at most B.
        Assert.Equal("B", Grades.Segmentation(0.7, [Cluster(1, 800, "low spend"), Cluster(2, 190, "high spend"), Cluster(3, 10, "high visits")]).Grade);
        Assert.Equal("A", Grades.Segmentation(0.7, [Cluster(1, 400, "low spend"), Cluster(2, 350, "high spend"), Cluster(3, 250, "high visits")]).Grade);
    }

    [Fact]
    public void The_threshold_table_and_the_f1_optimal_threshold_equal_a_brute_force_count()
    {
        var rng = new Random(4);
        var y = Enumerable.Range(0, 500).Select(_ => rng.NextDouble() < 0.2).ToArray();
        var p = y.Select(v => Math.Clamp((v ? 0.35 : 0.15) + (rng.NextDouble() - 0.5) * 0.5, 0, 1)).ToArray();
        var table = Thresholds.Table(p, y);
        Assert.Equal(99, table.Count);
        foreach (var row in table)
            Assert.Equal(Metrics.Confusion(p, y, row.Threshold), row);
        var best = Enumerable.Range(1, 99).Select(i => i / 100.0).MaxBy(t => Thresholds.F1(Metrics.Confusion(p, y, t)));
        Assert.Equal(Thresholds.F1(Metrics.Confusion(p, y, best)), Thresholds.F1(Metrics.Confusion(p, y, Thresholds.F1Optimal(p, y))), 12);
    }

    [Fact]
    public async Task A_label_one_column_explains_gets_that_column_as_its_baseline_and_no_a()
    {
        // churned = tenure < 12 (plus 5 % noise): one column says it all, so the model cannot claim an A against it.
        using var dir = TestData.NewTempDir();
        var file = Path.Combine(dir.Path, "one-column.parquet");
        var rng = new Random(2);
        var rows = string.Join(", ", Enumerable.Range(0, 3000).Select(i =>
        {
            var tenure = rng.Next(0, 72);
            var churned = (tenure < 12) ^ (rng.NextDouble() < 0.05);
            return string.Create(CultureInfo.InvariantCulture, $"('c{i}', {tenure}, {rng.NextDouble() * 100:F2}, '{(rng.Next(3) switch { 0 => "a", 1 => "b", _ => "c" })}', '{(churned ? "Yes" : "No")}')");
        }));
        ModelingFixtures.Sql($"COPY (SELECT * FROM (VALUES {rows}) t(id, tenure, spend, plan, churned)) TO '{file}' (FORMAT parquet)");
        var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Churn, SourceGlobs = [file], KeyField = "id", Label = new LabelSpec("churned", "Yes"), Seed = 5,
        }, null, Ct);
        Measured.Report($"one-column churn: auc {outcome.Metrics["auc"]:F4} baseline {outcome.Baseline["auc"]:F4} ({outcome.Charts.BaselineRule}) lift10 {outcome.Baseline["lift10"]:F3} grade {outcome.Grade}: {string.Join(" | ", outcome.Charts.GradeReasons)}");
        Assert.Equal("best single column 'tenure'", outcome.Charts.BaselineRule);
        Assert.True(outcome.Baseline["auc"] > 0.85, $"baseline auc {outcome.Baseline["auc"]}");
        // The baseline's lift is the rule's, not 0.
        Assert.True(outcome.Baseline["lift10"] > 2);
        Assert.NotEqual("A", outcome.Grade);
        Assert.NotEmpty(outcome.Charts.GradeReasons);
        // The operating threshold is F1-optimal on the training folds and predicts positives on the held-out rows.
        Assert.InRange(outcome.Metrics["threshold"], 0.01, 0.99);
        Assert.True(outcome.Charts.Confusion!.TruePositives + outcome.Charts.Confusion.FalsePositives > 0);
        Assert.Equal(outcome.Metrics["threshold"], outcome.Charts.Confusion.Threshold);
        Assert.Equal(99, outcome.Charts.Thresholds.Count);

        // A fixed threshold from the parameters is used as given.
        var fixedThreshold = await new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Churn, SourceGlobs = [file], KeyField = "id", Label = new LabelSpec("churned", "Yes"), Seed = 5,
            Parameters = new System.Text.Json.Nodes.JsonObject { ["threshold"] = 0.97 },
        }, null, Ct);
        Assert.Equal(0.97, fixedThreshold.Metrics["threshold"]);

        // Text labels without a positive class are refused (no silent default).
        var refused = await Assert.ThrowsAsync<ModelTrainingException>(() => new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Churn, SourceGlobs = [file], KeyField = "id", Label = new LabelSpec("churned", null),
        }, null, Ct));
        Assert.Contains("label.positive is required", refused.Message);
    }
}

/// <summary>The RFM rule baseline of binary models with event features.</summary>
public sealed class RfmRuleTests
{
    [Fact]
    public void The_rfm_rule_learns_the_positive_rate_per_rfm_cell_and_names_itself_in_the_grade()
    {
        var rng = new Random(6);
        const int n = 4000;
        var plan = new FeaturePlan(
        [
            new FeatureSpec { Name = "ev_recency_days", Kind = FeatureKind.Numeric, Fill = 100, MissingSlot = true },
            new FeatureSpec { Name = "ev_frequency", Kind = FeatureKind.Numeric },
            new FeatureSpec { Name = "ev_monetary", Kind = FeatureKind.Numeric },
            new FeatureSpec { Name = "age", Kind = FeatureKind.Numeric },
        ], DateTime.UnixEpoch);
        var x = new float[n][]; var y = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var none = i % 10 == 0;
            var recency = none ? 100 : rng.Next(0, 365); var frequency = none ? 0 : rng.Next(1, 30);
            x[i] = [recency, none ? 1 : 0, frequency, frequency * 20f, rng.Next(18, 80)];
            // Buyers who are both recent and frequent convert: no single column says it alone.
            y[i] = !none && (recency < 120 && frequency > 12) ^ (rng.NextDouble() < 0.05);
        }
        var train = Enumerable.Range(0, 3000).ToArray(); var test = Enumerable.Range(3000, 1000).ToArray();
        var rule = Thresholds.RfmRule(plan, x, y, train, test);
        Assert.NotNull(rule);
        var testY = test.Select(i => y[i]).ToArray();
        var rfmAuc = Metrics.Auc(rule!.Value.Scores, testY);
        var (_, columnScores, _) = Thresholds.BestSingleColumn(plan, x, y, train, test);
        Assert.True(rfmAuc > Metrics.Auc(columnScores, testY), $"rfm {rfmAuc} vs column {Metrics.Auc(columnScores, testY)}");
        // Rows without events share one cell: its rate is that of the training rows without events (all negative), smoothed.
        var prior = train.Count(i => y[i]) / 3000.0;
        Assert.Equal((0 + 10 * prior) / (300 + 10), rule.Value.Scores[0], 9);
        // Without event features there is no RFM rule.
        Assert.Null(Thresholds.RfmRule(new FeaturePlan([plan.Specs[3]], DateTime.UnixEpoch), x.Select(v => new[] { v[4] }).ToArray(), y, train, test));

        var report = Grades.Classification(new Dictionary<string, double> { ["auc"] = 0.80, ["logLoss"] = 0.3, ["f1"] = 0.5 },
            new Dictionary<string, double> { ["auc"] = 0.79, ["f1"] = 0.45, ["priorLogLoss"] = 0.4 }, new ConfusionCounts(0.3, 50, 50, 850, 50), "RFM rule", "RFM rule (recency, frequency, monetary quintiles)");
        Assert.Equal("B", report.Grade);
        Assert.Contains(report.Reasons, r => r.Contains("does not clearly beat the RFM rule (recency, frequency, monetary quintiles) (0.790", StringComparison.Ordinal));
        Assert.Contains(report.Reasons, r => r.Contains("it must beat the RFM rule", StringComparison.Ordinal));
    }
}
