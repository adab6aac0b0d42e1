using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Tests.Recipes;

public sealed class RecipeUnitTests
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    [Fact]
    public void Engagement_combines_rfm_quintiles_into_0_to_100()
    {
        var state = new EngagementState([10, 20, 30, 40], [1, 2, 3, 4], [100, 200, 300, 400]);
        Assert.Equal(100, EngagementRecipe.Score(state, recency: 5, frequency: 9, monetary: 1000));
        Assert.Equal(0, EngagementRecipe.Score(state, recency: 90, frequency: 1, monetary: 50));
        // R=5 (recent), F=3 (2 < 2.5 <= 3), M=1: 100 * (4 + 2 + 0) / 12 = 50.
        Assert.Equal(50, EngagementRecipe.Score(state, recency: 1, frequency: 2.5, monetary: 10));
        // Without monetary: R=3 (25 is above two cuts), F=4: 100 * (2 + 3) / 8 = 62.5.
        Assert.Equal(62.5, EngagementRecipe.Score(state with { MonetaryCuts = null }, recency: 25, frequency: 3.5, monetary: 0), 9);
    }

    [Fact]
    public async Task Engagement_on_online_retail_is_within_0_100_and_predicts_next_period_activity()
    {
        var events = ModelingFixtures.RetailEventsParquet();
        var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Engagement, Events = new EventSource([events]),
            Parameters = new JsonObject { ["customerField"] = "customer", ["amountField"] = "amount" },
        }, null, Ct);
        Measured.Report($"engagement: auc={outcome.Metrics["auc"]:F4} recency-only={outcome.Baseline["auc"]:F4} mean={outcome.Metrics["meanScore"]:F1} grade={outcome.Grade}");
        Assert.True(outcome.Metrics["auc"] > 0.7);
        // Importance of the three axes: the AUC drop when one is shuffled among the profiles.
        Measured.Report("engagement importance: " + string.Join(", ", outcome.FeatureImportance.Select(f => $"{f.Feature}={f.Importance:F4}")));
        Assert.Equal(["frequency (events)", "monetary (spend)", "recency (days since the last event)"], outcome.FeatureImportance.Select(f => f.Feature).Order());
        Assert.True(outcome.FeatureImportance.Single(f => f.Feature.StartsWith("recency", StringComparison.Ordinal)).Importance > 0.01);
        using var dir = TestData.NewTempDir();
        var output = Path.Combine(dir.Path, "eng.parquet");
        await new ModelScorer().ScoreAsync(new ScoringRequest { Artifact = outcome.Artifact, EventGlobs = [events], OutputPath = output }, Ct);
        var r = ModelingFixtures.Rows($"SELECT min(engagement) AS lo, max(engagement) AS hi FROM read_parquet('{output}')")[0];
        Assert.Equal(0.0, (double)r["lo"]!);
        Assert.Equal(100.0, (double)r["hi"]!);
    }

    [Fact]
    public async Task Segmentation_finds_four_blobs_and_describes_them_and_scores_one_like_the_batch()
    {
        using var dir = TestData.NewTempDir();
        var file = Path.Combine(dir.Path, "blobs.parquet");
        var rng = new Random(3);
        double[][] centers = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]];
        var values = string.Join(", ", Enumerable.Range(0, 400).Select(i =>
        {
            var c = centers[i % 4];
            return FormattableString.Invariant($"('p{i}', {c[0] + rng.NextDouble() - 0.5}, {c[1] + rng.NextDouble() - 0.5}, {c[2] + rng.NextDouble() - 0.5})");
        }));
        ModelingFixtures.Sql($"COPY (SELECT * FROM (VALUES {values}) t(id, frequency, spend, visits)) TO '{file}' (FORMAT parquet)");
        var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest { Recipe = Recipe.Segmentation, SourceGlobs = [file], KeyField = "id", Seed = 1 }, null, Ct);
        Measured.Report($"segmentation blobs: k={outcome.Metrics["k"]} silhouette={outcome.Metrics["silhouette"]:F4} clusters: {string.Join(" | ", outcome.Charts.Clusters.Select(c => $"{c.Size} {c.Description}"))}");
        Assert.Equal(4, outcome.Metrics["k"]);
        Assert.True(outcome.Metrics["silhouette"] > 0.7);
        Assert.All(outcome.Charts.Clusters, c => Assert.Equal(100, c.Size));
        Assert.Contains(outcome.Charts.Clusters, c => c.Description.Contains("high frequency"));
        // The three blob coordinates define the clusters: each explains most of its variance through the segments (eta²).
        Assert.Equal(3, outcome.FeatureImportance.Count);
        Assert.All(outcome.FeatureImportance, f => Assert.InRange(f.Importance, 0.9, 1.0));
        Assert.Equal("A", outcome.Grade);

        var output = Path.Combine(dir.Path, "seg.parquet");
        var scorer = new ModelScorer();
        await scorer.ScoreAsync(new ScoringRequest { Artifact = outcome.Artifact, InputGlobs = [file], OutputPath = output }, Ct);
        var batch = ModelingFixtures.Rows($"SELECT key, segment FROM read_parquet('{output}') ORDER BY key").ToDictionary(r => (string)r["key"]!, r => (int)r["segment"]!);
        foreach (var row in ModelingFixtures.Rows($"SELECT * FROM read_parquet('{file}') LIMIT 12"))
            Assert.Equal(batch[(string)row["id"]!], scorer.ScoreOne(outcome.Artifact, row).Segment);
    }

    [Fact]
    public async Task No_event_at_or_after_the_cutoff_can_enter_a_feature()
    {
        using var dir = TestData.NewTempDir();
        var profiles = Path.Combine(dir.Path, "profiles.parquet");
        var before = Path.Combine(dir.Path, "events_before.parquet");
        var after = Path.Combine(dir.Path, "events_after.parquet");
        ModelingFixtures.Sql($"COPY (SELECT 'c' || range AS id, range % 5 AS tier, CASE WHEN range % 3 = 0 OR range % 7 = 0 THEN 'yes' ELSE 'no' END AS bought FROM range(300)) TO '{profiles}' (FORMAT parquet)");
        ModelingFixtures.Sql($"COPY (SELECT 'c' || (range % 300) AS id, TIMESTAMP '2024-01-01' + INTERVAL (range % 170) DAY AS timestamp, CASE WHEN range % 4 = 0 THEN 'view' ELSE 'purchase' END AS eventType, (range % 13) * 1.5 AS amount FROM range(3000)) TO '{before}' (FORMAT parquet)");
        // Events at and after the cutoff (2024-06-20): huge amounts, new types, new customers' events.
        ModelingFixtures.Sql($"COPY (SELECT 'c' || (range % 300) AS id, TIMESTAMP '2024-06-20' + INTERVAL (range % 40) HOUR * 24 AS timestamp, CASE WHEN range % 2 = 0 THEN 'leak' ELSE 'purchase' END AS eventType, 1e6 AS amount FROM range(2000)) TO '{after}' (FORMAT parquet)");
        var union = Path.Combine(dir.Path, "events_all.parquet");
        ModelingFixtures.Sql($"COPY (SELECT * FROM read_parquet(['{before}', '{after}'])) TO '{union}' (FORMAT parquet)");

        TrainingRequest Request(string events) => new()
        {
            Recipe = Recipe.Propensity, SourceGlobs = [profiles], KeyField = "id", Label = new LabelSpec("bought", "yes"), Seed = 5,
            Events = new EventSource([events]),
            Parameters = new JsonObject { ["customerField"] = "id", ["amountField"] = "amount", ["cutoff"] = "2024-06-20" },
        };
        var cols = new EventColumns("id", "timestamp", "eventType", "amount");
        var cutoff = new DateTime(2024, 6, 20);
        string Features(string events)
        {
            var types = EventFeatures.TopEventTypes(Open(), cols, [events], cutoff);
            var t = ModelLake.Query(Open(), "SELECT * FROM " + EventFeatures.Sql(cols, [events], cutoff, types) + " ORDER BY k", Ct);
            return string.Join("\n", Enumerable.Range(0, t.Rows).Select(i => string.Join(",", t.Names.Select(n => t.Column(n)[i]))));
        }
        Assert.Equal(Features(before), Features(union));
        Assert.DoesNotContain("1000000", Features(union));

        var a = await new ModelTrainer().TrainAsync(Request(before), null, Ct);
        var b = await new ModelTrainer().TrainAsync(Request(union), null, Ct);
        Assert.Equal(a.Metrics, b.Metrics);
        Assert.Contains(a.FeatureImportance, f => f.Feature == "ev_monetary");

        // One-profile scoring aggregates the profile's events in memory exactly like the batch SQL.
        var scorer = new ModelScorer();
        var output = Path.Combine(dir.Path, "scores.parquet");
        await scorer.ScoreAsync(new ScoringRequest { Artifact = a.Artifact, InputGlobs = [profiles], EventGlobs = [union], OutputPath = output }, Ct);
        var batch = ModelingFixtures.Rows($"SELECT key, score FROM read_parquet('{output}')").ToDictionary(r => (string)r["key"]!, r => (double)r["score"]!);
        foreach (var p in ModelingFixtures.Rows($"SELECT * FROM read_parquet('{profiles}') LIMIT 10"))
        {
            var evs = ModelingFixtures.Rows($"SELECT * FROM read_parquet('{union}') WHERE id = '{p["id"]}'");
            Assert.Equal(batch[(string)p["id"]!], scorer.ScoreOne(a.Artifact, p, evs).Score!.Value, 9);
        }
    }

    private static DuckDB.NET.Data.DuckDBConnection Open() => ModelLake.Open();

    [Fact]
    public void Psi_is_zero_for_the_same_distribution_and_large_for_a_shift()
    {
        var train = Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray();
        var dist = ScoreDistribution.Deciles(train);
        Assert.Equal(0, ModelScorer.Psi(dist, ScoreDistribution.From(train, dist.Edges)), 9);
        Assert.True(ModelScorer.Psi(dist, ScoreDistribution.From(train.Select(v => v * 0.3).ToArray(), dist.Edges)) > 0.2);
    }
}
