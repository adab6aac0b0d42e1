using Enrichment.Portal.Core.Exploration;
using ExplorePage = Enrichment.Portal.Web.Components.Pages.Explore.Explore;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class ExploreOrderTests
{
    private static ColumnReport C(string name, double? signal, string kind = "auc", params string[] warnings) =>
        new() { Name = name, Type = "integer", NonNull = 10, TargetSignal = signal, TargetSignalKind = kind, Warnings = warnings };

    [Fact]
    public void Cards_put_the_target_first_then_the_strongest_signal_either_side_of_chance_then_warnings()
    {
        var ordered = ExplorePage.Order([C("age", 0.51), C("duration", 0.81), C("y", null), C("pdays", 0.30), C("city", null, "auc", ColumnWarnings.PossibleLeak), C("balance", null)], "y")
            .Select(c => c.Name).ToList();
        Assert.Equal(["y", "duration", "pdays", "age", "city", "balance"], ordered);
    }
}
