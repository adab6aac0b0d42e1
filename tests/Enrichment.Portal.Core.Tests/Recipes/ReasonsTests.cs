using System.Globalization;
using System.Text.Json;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML;

namespace Enrichment.Portal.Core.Tests.Recipes;

/// <summary>Per-profile reasons: the feature contributions equal a brute-force computation, and scoring writes them per profile.</summary>
public sealed class ReasonsTests
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    [Fact]
    public void Linear_model_contributions_equal_the_score_change_when_one_feature_is_set_to_its_training_mean()
    {
        var rng = new Random(3);
        const int n = 600;
        var tenure = Enumerable.Range(0, n).Select(_ => (object?)(double)rng.Next(0, 72)).ToArray();
        var spend = Enumerable.Range(0, n).Select(_ => (object?)(rng.NextDouble() * 100)).ToArray();
        var plans = Enumerable.Range(0, n).Select(_ => (object?)(rng.Next(3) switch { 0 => "month-to-month", 1 => "one year", _ => "two year" })).ToArray();
        var y = Enumerable.Range(0, n).Select(i => (double)tenure[i]! < 20 ^ (string)plans[i]! == "two year" ^ rng.NextDouble() < 0.1).ToArray();
        var train = Enumerable.Range(0, 500).ToArray();
        var plan = new FeaturePlan(
        [
            FeaturePlanBuilder.Learn("tenure", FieldType.Number, tenure, train, DateTime.UnixEpoch),
            FeaturePlanBuilder.Learn("spend", FieldType.Number, spend, train, DateTime.UnixEpoch),
            FeaturePlanBuilder.Learn("plan", FieldType.String, plans, train, DateTime.UnixEpoch),
        ], DateTime.UnixEpoch);
        var columns = new[] { tenure, spend, plans };
        var x = Enumerable.Range(0, n).Select(r => plan.EncodeIndexed(i => columns[i][r])).ToArray();

        var ml = new MLContext(1);
        var candidate = BinaryRecipe.Candidates(1).Single(c => c.Name == "LogisticRegression(l2=1)");
        var model = candidate.Build(ml).Fit(MlRows.Load(ml, train.Select(r => new BinaryRow { Label = y[r], Weight = 1, Features = x[r] }), plan.Width));
        var withReasons = Reasons.Attach(ml, model, MlRows.Load(ml, train.Take(10).Select(r => new FeatureRow { Features = x[r] }), plan.Width), plan.Width);
        Assert.NotNull(withReasons);
        var state = Reasons.Learn(ml, withReasons!, x, train, plan.Width);

        var test = Enumerable.Range(500, 100).ToArray();
        var contributions = Reasons.Contributions(withReasons!.Transform(MlRows.Load(ml, test.Select(r => new FeatureRow { Features = x[r] }), plan.Width)), plan.Width).ToArray();
        var raw = BinaryRecipe.Score(model, 1, test, x, plan.Width);
        var slotMeans = Enumerable.Range(0, plan.Width).Select(j => train.Average(r => (double)x[r][j])).ToArray();
        var offsets = plan.Offsets();
        for (var t = 0; t < test.Length; t++)
        {
            var per = Reasons.PerFeature(plan, state, contributions[t]);
            var brute = new double[plan.Specs.Count];
            for (var s = 0; s < plan.Specs.Count; s++)
            {
                // Brute force: the change of the raw score when this feature alone takes the training mean value.
                var changed = (float[])x[test[t]].Clone();
                for (var j = offsets[s]; j < offsets[s] + plan.Specs[s].Width; j++) changed[j] = (float)slotMeans[j];
                brute[s] = raw[t] - BinaryRecipe.Score(model, 1, [0], [changed], plan.Width)[0];
                Assert.Equal(brute[s], per[s], 3);
            }
            var reasons = Reasons.Explain(plan, state, contributions[t], i => columns[i][test[t]], DateTime.UnixEpoch);
            Assert.Equal(Enumerable.Range(0, 3).OrderByDescending(i => Math.Abs(brute[i])).Select(i => plan.Specs[i].Name), reasons.Select(r => r.Feature));
            var tenureReason = reasons.Single(r => r.Feature == "tenure");
            Assert.Equal((double)tenure[test[t]]! >= plan.Specs[0].Fill ? "high" : "low", tenureReason.Direction);
            Assert.Equal("= " + plans[test[t]], reasons.Single(r => r.Feature == "plan").Direction);
        }
        // The reasons say what the model learned: low tenure raises the churn score.
        var low = Enumerable.Range(0, test.Length).First(t => (double)tenure[test[t]]! < 5);
        Assert.True(Reasons.PerFeature(plan, state, contributions[low])[0] > 0);
    }

    [Fact]
    public async Task Tree_model_scores_carry_their_top_three_reasons_in_the_batch_and_for_one_profile()
    {
        using var dir = TestData.NewTempDir();
        var file = Path.Combine(dir.Path, "churn.parquet");
        var rng = new Random(8);
        var rows = string.Join(", ", Enumerable.Range(0, 3000).Select(i =>
        {
            var tenure = rng.Next(0, 72);
            var plan = rng.Next(3) switch { 0 => "month-to-month", 1 => "one year", _ => "two year" };
            var p = (tenure < 12 ? 0.6 : 0.1) + (plan == "month-to-month" ? 0.25 : 0);
            return string.Create(CultureInfo.InvariantCulture, $"('c{i}', {tenure}, {rng.NextDouble() * 100:F2}, '{plan}', '{(rng.NextDouble() < p ? "Yes" : "No")}')");
        }));
        ModelingFixtures.Sql($"COPY (SELECT * FROM (VALUES {rows}) t(id, tenure, spend, plan, churned)) TO '{file}' (FORMAT parquet)");
        var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Churn, SourceGlobs = [file], KeyField = "id", Label = new LabelSpec("churned", "Yes"), Seed = 5,
        }, null, Ct);
        Assert.NotNull(ModelArtifact.ReadManifest(outcome.Artifact).Reasons);

        var scorer = new ModelScorer();
        var output = Path.Combine(dir.Path, "scores.parquet");
        await scorer.ScoreAsync(new ScoringRequest { Artifact = outcome.Artifact, InputGlobs = [file], OutputPath = output }, Ct);
        var batch = ModelingFixtures.Rows($"SELECT key, score, to_json(reasons)::VARCHAR AS reasons FROM read_parquet('{output}') ORDER BY key");
        var source = ModelingFixtures.Rows($"SELECT * FROM read_parquet('{file}') ORDER BY id").ToDictionary(r => (string)r["id"]!);
        Assert.Equal(3000, batch.Count);
        foreach (var b in batch.Take(40))
        {
            var reasons = JsonSerializer.Deserialize<List<ScoreReason>>((string)b["reasons"]!, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            Assert.Equal(3, reasons.Count);
            Assert.Equal(reasons.OrderByDescending(r => Math.Abs(r.Contribution)).Select(r => r.Feature), reasons.Select(r => r.Feature));
            // One profile scored alone gives the same score and the same reasons.
            var one = scorer.ScoreOne(outcome.Artifact, source[(string)b["key"]!]);
            Assert.Equal((double)b["score"]!, one.Score!.Value, 6);
            Assert.Equal(reasons.Select(r => (r.Feature, r.Direction, r.Value)), one.Reasons!.Select(r => (r.Feature, r.Direction, r.Value)));
            Assert.Equal(reasons.Select(r => r.Contribution), one.Reasons!.Select(r => r.Contribution), (a, c) => Math.Abs(a - c) < 1e-3);
        }

        // A new customer on a month-to-month plan: tenure low and the plan raise the score, and they are the top reasons; the
        // check by changing one feature: giving the profile the average tenure lowers its score.
        var newcomer = new Dictionary<string, object?> { ["id"] = "new", ["tenure"] = 2L, ["spend"] = 50.0, ["plan"] = "month-to-month" };
        var scored = scorer.ScoreOne(outcome.Artifact, newcomer);
        Assert.Equal(["plan", "tenure"], scored.Reasons!.Take(2).Select(r => r.Feature).Order());
        Assert.Contains(scored.Reasons!, r => r is { Feature: "tenure", Direction: "low", Contribution: > 0, Value: "2" });
        Assert.Contains(scored.Reasons!, r => r is { Feature: "plan", Direction: "= month-to-month", Contribution: > 0 });
        var averageTenure = ModelArtifact.ReadManifest(outcome.Artifact).Plan!.Specs.Single(s => s.Name == "tenure").Fill;
        Assert.True(scorer.ScoreOne(outcome.Artifact, new Dictionary<string, object?>(newcomer) { ["tenure"] = averageTenure }).Score < scored.Score);
    }
}
