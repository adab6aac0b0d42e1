using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Tests.Recipes;

/// <summary>The ROC curve drawn on the model page: a vertex per distinct score, thinned evenly, its area the AUC.</summary>
public sealed class RocCurveTests
{
    private static double Area(IReadOnlyList<CurvePoint> c) =>
        c.Zip(c.Skip(1), (a, b) => (b.X - a.X) * (a.Y + b.Y) / 2).Sum();

    [Fact]
    public void A_large_test_set_gives_at_most_201_vertices_from_0_0_to_1_1_whose_area_is_the_auc()
    {
        var rng = new Random(11);
        var y = Enumerable.Range(0, 20_000).Select(_ => rng.NextDouble() < 0.3).ToArray();
        var p = y.Select(b => Math.Clamp((b ? 0.6 : 0.4) + (rng.NextDouble() - 0.5) * 0.8, 0, 1)).ToArray();
        var roc = Metrics.Roc(p, y);
        Assert.InRange(roc.Count, 150, 201);
        Assert.Equal(new CurvePoint(0, 0), roc[0]);
        Assert.Equal(new CurvePoint(1, 1), roc[^1]);
        for (var i = 1; i < roc.Count; i++) Assert.True(roc[i].X >= roc[i - 1].X && roc[i].Y >= roc[i - 1].Y, $"not monotone at {i}");
        Assert.Equal(Metrics.Auc(p, y), Area(roc), 3);
        // Evenly spread: no gap between vertices longer than a few hundredths of the path.
        Assert.True(roc.Zip(roc.Skip(1), (a, b) => Math.Max(b.X - a.X, b.Y - a.Y)).Max() < 0.05);
    }

    [Fact]
    public void Tied_scores_move_together_so_a_constant_score_is_the_diagonal_and_a_small_set_keeps_every_vertex()
    {
        bool[] y = [true, false, true, false, false];
        Assert.Equal([new CurvePoint(0, 0), new CurvePoint(1, 1)], Metrics.Roc([0.5, 0.5, 0.5, 0.5, 0.5], y));
        // Scores 0.9 (pos), 0.7 (neg, pos tied), 0.2 (neg, neg): three steps.
        var roc = Metrics.Roc([0.9, 0.7, 0.7, 0.2, 0.2], y);
        Assert.Equal([new CurvePoint(0, 0), new CurvePoint(0, 0.5), new CurvePoint(1 / 3.0, 1), new CurvePoint(1, 1)], roc);
        Assert.Equal(Metrics.Auc([0.9, 0.7, 0.7, 0.2, 0.2], y), Area(roc), 9);
    }
}
