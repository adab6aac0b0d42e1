using Enrichment.Portal.Core.Audiences;

namespace Enrichment.Portal.Core.Tests.Audiences;

public sealed class AudienceEstimateTests
{
    [Theory]
    [InlineData(1, 1_000_000, "< 0.1 %")]
    [InlineData(999, 1_000_000, "< 0.1 %")]
    [InlineData(1_000, 1_000_000, "0.1 %")]
    [InlineData(0, 1_000_000, "0 %")]
    [InlineData(1, 4, "25 %")]
    [InlineData(2, 3, "66.7 %")]
    public void The_share_of_a_tiny_audience_never_reads_zero(long size, long total, string text) =>
        Assert.Equal(text, new AudienceEstimate(size, total, (double)size / total, [], 0).ShareText);
}
