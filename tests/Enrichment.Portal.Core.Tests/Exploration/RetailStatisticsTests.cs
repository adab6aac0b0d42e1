using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Tests.Query;

namespace Enrichment.Portal.Core.Tests.Exploration;

public sealed class RetailStatisticsTests(RetailLakeFixture lake) : IClassFixture<RetailLakeFixture>
{
    [Fact]
    public async Task Online_retail_statistics_match_the_reference_figures()
    {
        var stats = await new DatasetStatistics().ComputeAsync([lake.Batch1, lake.Batch2], null, null, new StatsOptions(),
            Xunit.TestContext.Current.CancellationToken);

        Assert.Equal(541_909, stats.Rows);
        var byName = stats.Columns.ToDictionary(c => c.Name);
        Assert.Equal(25_900, byName["InvoiceNo"].Distinct);
        Assert.Equal(4_070, byName["StockCode"].Distinct);
        Assert.Equal(38, byName["Country"].Distinct);
        Assert.Equal(4_372, byName["CustomerID"].Distinct);
        Assert.Equal(541_909 - 135_080, byName["CustomerID"].NonNull);
        Assert.Equal(541_909 - 1_454, byName["Description"].NonNull);
        Assert.Equal("datetime", byName["InvoiceDate"].Type);
        Assert.Equal("2010-12-01T08:26:00", byName["InvoiceDate"].Min);
        Assert.Equal("United Kingdom", byName["Country"].TopValues[0].Value);
        Assert.Contains(ColumnWarnings.Outliers, byName["Quantity"].Warnings);
        Assert.Null(stats.Target);
        Assert.Empty(stats.TargetRanking);
    }
}
