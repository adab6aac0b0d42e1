using System.Diagnostics;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Tests.Recipes;

public sealed class PropensityRecipeTests
{
    private static TrainingRequest Bank(string parquet, int seed = 42) => new()
    {
        Recipe = Recipe.Propensity, SourceGlobs = [parquet], Label = new LabelSpec("y", "yes"), ExcludeFeatures = ["duration"], Seed = seed,
    };

    [Fact]
    public async Task Bank_marketing_without_duration_reaches_a_held_out_auc_of_at_least_079_and_scores_consistently()
    {
        var parquet = ModelingFixtures.BankParquet();
        var sw = Stopwatch.StartNew();
        var outcome = await new ModelTrainer().TrainAsync(Bank(parquet), null, Xunit.TestContext.Current.CancellationToken);
        var trainSeconds = sw.Elapsed.TotalSeconds;
        Measured.Report($"bank: {string.Join(", ", outcome.Metrics.Select(kv => $"{kv.Key}={kv.Value:F4}"))} trainer={outcome.Trainer} grade={outcome.Grade} {trainSeconds:F1}s");
        foreach (var line in outcome.Log) Measured.Report(line);

        Assert.True(outcome.Metrics["auc"] >= 0.79, $"AUC {outcome.Metrics["auc"]:F4}");
        Assert.DoesNotContain(outcome.FeatureImportance, f => f.Feature is "duration" or "y");
        Assert.Equal(9042, outcome.TestRows);
        Assert.NotEmpty(outcome.Charts.Roc);
        Assert.Equal(10, outcome.Charts.Deciles.Count);
        Assert.InRange(outcome.Metrics["logLoss"], 0, outcome.Baseline["logLoss"]);

        // Batch scoring through one Transform, then one-profile scoring of a few rows gives the same values.
        using var dir = TestData.NewTempDir();
        var output = Path.Combine(dir.Path, "scores.parquet");
        var scorer = new ModelScorer();
        var scored = await scorer.ScoreAsync(new ScoringRequest { Artifact = outcome.Artifact, InputGlobs = [parquet], OutputPath = output, DistributionEdges = outcome.TrainingDistribution!.Edges }, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(45211, scored.RowsScored);
        var batch = ModelingFixtures.Rows($"SELECT key, score FROM read_parquet('{output}') ORDER BY CAST(key AS INTEGER) LIMIT 20");
        var source = ModelingFixtures.Rows($"SELECT * FROM read_parquet('{parquet}') LIMIT 20");
        for (var i = 0; i < 20; i++)
        {
            var one = scorer.ScoreOne(outcome.Artifact, source[i]);
            Assert.InRange((double)batch[i]["score"]!, 0, 1);
            Assert.Equal((double)batch[i]["score"]!, one.Score!.Value, 12);
        }
        var psi = ModelScorer.Psi(outcome.TrainingDistribution, scored.Distribution!);
        Assert.InRange(psi, 0, 0.05);
    }

    [Fact]
    public async Task Training_twice_with_the_same_seed_gives_the_same_metrics()
    {
        using var dir = TestData.NewTempDir();
        var small = Path.Combine(dir.Path, "bank_small.parquet");
        ModelingFixtures.Sql($"COPY (SELECT * FROM read_parquet('{ModelingFixtures.BankParquet()}') WHERE day % 3 = 0) TO '{small}' (FORMAT parquet)");
        var a = await new ModelTrainer().TrainAsync(Bank(small, 7), null, Xunit.TestContext.Current.CancellationToken);
        var b = await new ModelTrainer().TrainAsync(Bank(small, 7), null, Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(a.Trainer, b.Trainer);
        foreach (var (k, v) in a.Metrics) Assert.Equal(v, b.Metrics[k]);
        Assert.Equal(a.FeatureImportance, b.FeatureImportance);
    }

    [Fact]
    public async Task A_label_with_one_class_fails_with_a_clear_message()
    {
        using var dir = TestData.NewTempDir();
        var file = Path.Combine(dir.Path, "one.parquet");
        ModelingFixtures.Sql($"COPY (SELECT range AS id, range % 7 AS x, 'no' AS y FROM range(200)) TO '{file}' (FORMAT parquet)");
        var e = await Assert.ThrowsAsync<ModelTrainingException>(() => new ModelTrainer().TrainAsync(new TrainingRequest
            { Recipe = Recipe.Churn, SourceGlobs = [file], Label = new LabelSpec("y", "yes") }, null, Xunit.TestContext.Current.CancellationToken));
        Assert.Contains("only one class", e.Message);
    }

    [Fact]
    public async Task An_unknown_label_column_fails_with_a_clear_message()
    {
        var e = await Assert.ThrowsAsync<ModelTrainingException>(() => new ModelTrainer().TrainAsync(new TrainingRequest
            { Recipe = Recipe.Propensity, SourceGlobs = [ModelingFixtures.BankParquet()], Label = new LabelSpec("nope", "yes") }, null, Xunit.TestContext.Current.CancellationToken));
        Assert.Contains("'nope'", e.Message);
    }
}
