using Bunit;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Web.Components.Scoring;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class ChartAxisFormatTests : PortalTestContext
{
    [Fact]
    public void Ticks_take_the_fewest_decimals_that_keep_values_apart_with_thousands_separators()
    {
        Assert.Equal(["0.00040", "0.00045", "0.00100"], Format.Ticks([0.0004, 0.00045, 0.001]));
        Assert.Equal(["0.10", "0.20", "0.50"], Format.Ticks([0.1, 0.2, 0.5], minDecimals: 2));
        Assert.Equal(["1,200", "1,500", "25,000"], Format.Ticks([1200, 1500, 25_000]));
        Assert.Equal(["0.5", "1.0", "1.5"], Format.Ticks([0.5, 1.0, 1.5]));
    }

    [Fact]
    public void Query_cells_format_numbers_for_people_and_leave_text_alone()
    {
        Assert.Equal("541,909", Format.Cell(541_909L));
        Assert.Equal("9,747,747.93", Format.Cell(9_747_747.93));
        Assert.Equal("0.853", Format.Cell(0.853));
        Assert.Equal("CG-12520", Format.Cell("CG-12520"));
        Assert.True(Format.IsNumber(3.5));
        Assert.False(Format.IsNumber("3.5"));
    }

    [Fact]
    public void A_distribution_with_repeated_edges_merges_them_and_shows_each_bin_label_once()
    {
        // Deciles of a rare outcome: most scores are the same tiny value, so the training edges repeat.
        IReadOnlyList<double> edges = [0.0004, 0.0004, 0.0004, 0.0004, 0.00045, 0.0011, 0.0011, 0.02, 0.31];
        var training = new ScoreDistribution(edges, [0.2, 0.1, 0, 0, 0.2, 0.1, 0.1, 0, 0.1, 0.2]);
        var latest = ScoreDistribution.From([0.0001, 0.0004, 0.0004, 0.0005, 0.001, 0.01, 0.2, 0.5, 0.9, 0.0004], edges);

        var cut = Render<ScoreDistributionChart>(p => p.Add(x => x.Training, training).Add(x => x.Latest, latest).Add(x => x.Recipe, "churn"));
        var texts = cut.FindAll("[data-testid=scoring-distribution] svg text").Select(t => t.TextContent.Trim()).Where(t => t.StartsWith('≤') || t.StartsWith('>') || t.Contains('–')).ToList();

        Assert.Equal(["≤ 0.00040", "0.00040–0.00045", "0.00045–0.00110", "0.00110–0.02000", "0.02000–0.31000", "> 0.31000"], texts);
        Assert.Equal(texts.Count, texts.Distinct().Count());
        var (merged, fractions) = ScoreDistributionChart.Merge(training.Edges, training.Fractions);
        Assert.Equal([0.0004, 0.00045, 0.0011, 0.02, 0.31], merged);
        Assert.Equal(1.0, fractions.Sum(), 6);
        Assert.Equal(0.2, fractions[0], 6);
    }
}
