using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Tests.Recipes;

public sealed class AffinityRecipeTests
{
    [Fact]
    public void Groceries_apriori_gives_463_rules_with_herbs_to_root_vegetables_on_top()
    {
        var path = TestData.Shared("groceries/groceries.csv");
        if (path is null) Assert.Skip("groceries.csv is not shipped (GPL-derived); it is read from ../shared/data when present.");
        var baskets = File.ReadAllLines(path!).Where(l => l.Length > 0)
            .Select(l => (IReadOnlyCollection<string>)l.Split(',').Select(s => s.Trim()).Distinct().ToArray()).ToArray();
        Assert.Equal(9835, baskets.Length);
        var rules = Apriori.Rules(baskets, 0.006, 0.25, minLength: 2, ct: Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(463, rules.Count);
        var top = rules[0];
        Assert.Equal(["herbs"], top.Antecedent);
        Assert.Equal("root vegetables", top.Consequent);
        // The reference figures are rounded half-up to the digits shown (0.43125 is printed as 0.4313): compare within half a unit.
        Assert.Equal(0.007, top.Support, 0.0005);
        Assert.Equal(0.4313, top.Confidence, 0.00005 + 1e-9);
        Assert.Equal(3.9565, top.Lift, 0.00005 + 1e-9);
        Assert.Equal(["berries"], rules[1].Antecedent);
        Assert.Equal("whipped/sour cream", rules[1].Consequent);
    }

    [Fact]
    public async Task Recency_weighted_top_items_beat_the_popularity_baseline_on_online_retail()
    {
        var events = ModelingFixtures.RetailEventsParquet();
        var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Affinity, Events = new EventSource([events]),
            Parameters = new JsonObject { ["customerField"] = "customer", ["itemField"] = "item", ["basketField"] = "invoice", ["topN"] = 5, ["minSupport"] = 0.02 },
        }, null, Xunit.TestContext.Current.CancellationToken);
        Measured.Report($"affinity online retail: hitRate@5={outcome.Metrics["hitRate"]:F4} popularity={outcome.Baseline["hitRate"]:F4} profiles={outcome.Metrics["evaluatedProfiles"]} rules={outcome.Metrics["rules"]} grade={outcome.Grade}");
        Assert.True(outcome.Metrics["hitRate"] > outcome.Baseline["hitRate"]);
        Assert.True(outcome.Metrics["rules"] > 0);

        using var dir = TestData.NewTempDir();
        var output = Path.Combine(dir.Path, "aff.parquet");
        await new ModelScorer().ScoreAsync(new ScoringRequest { Artifact = outcome.Artifact, EventGlobs = [events], OutputPath = output }, Xunit.TestContext.Current.CancellationToken);
        var rows = ModelingFixtures.Rows($"SELECT max(len(top)) AS m, min(len(top)) AS lo FROM read_parquet('{output}')");
        Assert.Equal(5L, Convert.ToInt64(rows[0]["m"]));
        Assert.True(Convert.ToInt64(rows[0]["lo"]) >= 1);
    }
}
