using System.Globalization;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Tests.Recipes;

/// <summary>The uplift recipe recovers a known effect on generated data, and its metrics equal a count by hand.</summary>
public sealed class UpliftRecipeTests
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    /// <summary>A campaign in the Hillstrom shape: segment = the arm ("Mens E-Mail", "Womens E-Mail", "No E-Mail"); conversion
    /// 10 % everywhere, raised by 10 points by the men's e-mail only for history_segment 'A'.</summary>
    private static string Campaign(string dir, int n = 9000)
    {
        var file = Path.Combine(dir, "campaign.parquet");
        var rng = new Random(11);
        var rows = string.Join(", ", Enumerable.Range(0, n).Select(i =>
        {
            var seg = rng.Next(3) switch { 0 => "A", 1 => "B", _ => "C" };
            var arm = rng.Next(3) switch { 0 => "Mens E-Mail", 1 => "Womens E-Mail", _ => "No E-Mail" };
            var p = 0.10 + (arm == "Mens E-Mail" && seg == "A" ? 0.10 : 0);
            return string.Create(CultureInfo.InvariantCulture, $"('p{i}', {rng.Next(1, 13)}, '{seg}', {rng.NextDouble() * 500:F2}, {rng.Next(2)}, '{arm}', {(rng.NextDouble() < p ? 1 : 0)})");
        }));
        ModelingFixtures.Sql($"COPY (SELECT * FROM (VALUES {rows}) t(id, recency, history_segment, history, newbie, segment, conversion)) TO '{file}' (FORMAT parquet)");
        return file;
    }

    private static TrainingRequest Request(string file, string? control = "No E-Mail") => new()
    {
        Recipe = Recipe.Uplift, SourceGlobs = [file], KeyField = "id", Label = new LabelSpec("conversion", "1"), Seed = 3,
        Parameters = new JsonObject { ["treatmentField"] = "segment", ["treatedValue"] = "Mens E-Mail", ["controlValue"] = control },
    };

    [Fact]
    public async Task The_recipe_ranks_the_segment_where_the_treatment_works_on_top_and_beats_random_targeting()
    {
        using var dir = TestData.NewTempDir();
        var file = Campaign(dir.Path);
        var outcome = await new ModelTrainer().TrainAsync(Request(file), null, Ct);
        Measured.Report($"uplift on generated data: {string.Join(", ", outcome.Metrics.Select(kv => $"{kv.Key}={kv.Value:F4}"))} grade {outcome.Grade} | {string.Join(" ", outcome.Charts.GradeReasons)}");
        // The women's e-mail rows (a third of the data) are neither arm: left out.
        Assert.InRange(outcome.TrainRows + outcome.TestRows, 5600, 6400);
        Assert.True(outcome.Metrics["qini"] > 0, $"qini {outcome.Metrics["qini"]}");
        Assert.Equal(0, outcome.Baseline["qini"]);
        // The average effect is about +10 points in a third of the rows (≈ 3.3 points); the top 30 % by predicted uplift holds most of it.
        Assert.InRange(outcome.Metrics["ate"], 0.0, 0.08);
        Assert.True(outcome.Metrics["upliftTop30"] > outcome.Metrics["ate"] + 0.03, $"top 30 % {outcome.Metrics["upliftTop30"]} vs ate {outcome.Metrics["ate"]}");
        Assert.NotEqual("C", outcome.Grade);
        Assert.Equal(10, outcome.Charts.Uplift.Count);
        Assert.Equal(21, outcome.Charts.Qini.Count);
        Assert.Equal("history_segment", outcome.FeatureImportance[0].Feature);
        Assert.NotEmpty(outcome.Charts.GradeReasons);

        // Scoring: the uplift column, highest for segment A, the same for one profile.
        var scorer = new ModelScorer();
        var output = Path.Combine(dir.Path, "uplift.parquet");
        await scorer.ScoreAsync(new ScoringRequest { Artifact = outcome.Artifact, InputGlobs = [file], OutputPath = output }, Ct);
        var bySegment = ModelingFixtures.Rows($"SELECT s.history_segment AS seg, avg(u.uplift) AS uplift, count(*) AS n FROM read_parquet('{output}') u JOIN read_parquet('{file}') s ON u.key = s.id GROUP BY seg ORDER BY uplift DESC");
        Assert.Equal("A", bySegment[0]["seg"]);
        Assert.True((double)bySegment[0]["uplift"]! > (double)bySegment[1]["uplift"]! + 0.04);
        Assert.Equal(9000L, bySegment.Sum(r => Convert.ToInt64(r["n"], CultureInfo.InvariantCulture)));
        var first = ModelingFixtures.Rows($"SELECT u.*, s.* FROM read_parquet('{output}') u JOIN read_parquet('{file}') s ON u.key = s.id ORDER BY key LIMIT 5");
        foreach (var row in first)
        {
            var one = scorer.ScoreOne(outcome.Artifact, row);
            Assert.Equal((double)row["uplift"]!, one.Uplift!.Value, 6);
            Assert.Equal((double)row["treated"]! - (double)row["control"]!, one.Uplift.Value, 6);
        }
    }

    [Fact]
    public async Task A_treated_value_that_is_not_in_the_column_is_refused_with_the_values_seen()
    {
        using var dir = TestData.NewTempDir();
        var file = Campaign(dir.Path, 300);
        var bad = Request(file) with { Parameters = new JsonObject { ["treatmentField"] = "segment", ["treatedValue"] = "Mens Email" } };
        var e = await Assert.ThrowsAsync<ModelTrainingException>(() => new ModelTrainer().TrainAsync(bad, null, Ct));
        Assert.Contains("0 treated rows ('Mens Email')", e.Message);
        Assert.Contains("'No E-Mail'", e.Message);
    }

    [Fact]
    public void Qini_and_deciles_equal_a_count_by_hand()
    {
        // Ranked by uplift: rows 0..3 treated (converted: 0, 1), rows 4..7 control (converted: 4).
        double[] u = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
        bool[] t = [true, true, true, true, false, false, false, false];
        bool[] y = [true, true, false, false, true, false, false, false];
        var (coefficient, total, curve) = UpliftMetrics.Qini(u, t, y);
        // Q(k) = Y_T(k) - Y_C(k) N_T(k) / N_C(k): 1, 2, 2, 2, then 2 - 1*4/1 = -2, 2 - 4/2 = 0, 2 - 4/3, 2 - 4/4 = 1; over N = 8.
        double[] q = [0, 1, 2, 2, 2, -2, 0, 2 - 4.0 / 3, 1];
        Assert.Equal(1 / 8.0, total, 12);
        var area = Enumerable.Range(1, 8).Sum(k => ((q[k] + q[k - 1]) / 2 / 8 - total * (k - 0.5) / 8) / 8);
        Assert.Equal(area, coefficient, 12);
        Assert.Equal(0.5, curve[10].X);
        Assert.Equal(2 / 8.0, curve[10].Y, 12);
        Assert.Equal(0.5 - 0.25, UpliftMetrics.Ate(t, y), 12);
        Assert.Equal(2 / 4.0 - 0, UpliftMetrics.TopShareUplift(u, t, y, 0.5), 12);
    }
}
