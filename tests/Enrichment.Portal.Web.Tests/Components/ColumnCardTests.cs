using Bunit;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Web.Components.Exploration;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class ColumnCardTests : PortalTestContext
{
    private static ColumnReport Duration() => new()
    {
        Name = "duration", Type = "integer", Completeness = 1.0, NonNull = 45_211, Distinct = 1_573,
        Min = System.Text.Json.JsonSerializer.SerializeToElement(0.0), Max = System.Text.Json.JsonSerializer.SerializeToElement(4918.0),
        Mean = 258.16, Stddev = 257.53, Quartiles = new Quartiles(103, 180, 319),
        Histogram = Enumerable.Range(0, 20).Select(i => new HistogramBin(i * 246, (i + 1) * 246, 40_000 >> Math.Min(i, 15))).ToList(),
        TopValues = [new TopValue("124", 188), new TopValue("90", 184)],
        TargetSignal = 0.808, TargetSignalKind = "auc", Warnings = [ColumnWarnings.PossibleLeak, ColumnWarnings.Outliers],
    };

    [Fact]
    public void A_numeric_column_shows_its_numbers_a_histogram_chart_its_signal_and_a_possible_leak_chip()
    {
        var card = Render<ColumnCard>(p => p.Add(c => c.Column, Duration()));

        Assert.Equal("duration", card.Find("[data-testid=column-name]").TextContent);
        Assert.Equal("100.0 %", card.Find("[data-testid=column-completeness]").TextContent);
        Assert.Equal("1,573", card.Find("[data-testid=column-distinct]").TextContent);
        Assert.Equal("4,918", card.Find("[data-testid=column-max]").TextContent);
        Assert.Equal("103.0 · 180.0 · 319.0", card.Find("[data-testid=column-quartiles]").TextContent);
        var histogram = card.Find("[data-testid=column-histogram]");
        Assert.NotEmpty(histogram.QuerySelectorAll("svg"));
        Assert.Empty(card.FindAll("[data-testid=column-topvalues]"));
        var leak = card.Find("[data-testid=column-warning-possible-leak]");
        Assert.Contains("possible-leak", leak.TextContent);
        Assert.NotEmpty(card.FindAll("[data-testid=column-warning-outliers]"));
        Assert.Equal("0.808", card.Find("[data-testid=column-signal-value]").TextContent);
        Assert.Contains("known before the outcome", ColumnCard.WarningText(ColumnWarnings.PossibleLeak));
    }

    [Fact]
    public void A_categorical_column_shows_a_top_values_chart_and_no_leak_chip()
    {
        var column = new ColumnReport
        {
            Name = "job", Type = "string", Completeness = 0.75, NonNull = 75, Distinct = 3,
            TopValues = [new TopValue("blue-collar", 40), new TopValue("management", 25), new TopValue(null, 10)],
            Warnings = [ColumnWarnings.RejectedRecords], RejectedRecords = 12,
        };

        var card = Render<ColumnCard>(p => p.Add(c => c.Column, column).Add(c => c.IsTarget, true));

        Assert.NotEmpty(card.Find("[data-testid=column-topvalues]").QuerySelectorAll("svg"));
        Assert.Contains("blue-collar: 40", card.Find("[data-testid=column-topvalues]").TextContent);
        Assert.Empty(card.FindAll("[data-testid=column-histogram]"));
        Assert.Empty(card.FindAll("[data-testid=column-warning-possible-leak]"));
        Assert.Empty(card.FindAll("[data-testid=column-signal]"));
        Assert.Equal("75.0 %", card.Find("[data-testid=column-completeness]").TextContent);
        Assert.Contains("12 records", card.Find("[data-testid=column-rejected]").TextContent);
        Assert.NotEmpty(card.FindAll("[data-testid=column-is-target]"));
    }
}
