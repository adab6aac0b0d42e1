using Bunit;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Web.Components.Models;
using MudBlazor;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class GradeAndThresholdComponentsTests : PortalTestContext
{
    [Fact]
    public void The_grade_explanation_lists_every_reason_and_names_the_baseline()
    {
        var reasons = new[] { "No held-out row is predicted positive at threshold 0.500 (0 of 1,000): the model flags nobody.", "AUC 0.910 (ranking only); the best single column 'tenure': 0.700." };
        var cut = Render<GradeExplanation>(p => p.Add(x => x.Grade, "C").Add(x => x.Reasons, reasons).Add(x => x.BaselineRule, "best single column 'tenure'"));
        Assert.Contains("Grade C", cut.Find("[data-testid=model-grade]").TextContent);
        Assert.Equal("Not usable as it is; see why below.", cut.Find("[data-testid=grade-summary]").TextContent.Trim());
        var items = cut.FindAll("[data-testid=grade-reasons] li").Select(li => li.TextContent).ToList();
        Assert.Equal(reasons, items);
        Assert.Contains("best single column 'tenure'", cut.Find("[data-testid=grade-baseline]").TextContent);

        // Through the metric cards (as on the model page), an A says ready and still shows why.
        var cards = Render<MetricsCards>(p => p.Add(x => x.Metrics, new Dictionary<string, double> { ["auc"] = 0.85, ["threshold"] = 0.31 })
            .Add(x => x.Grade, "A").Add(x => x.Reasons, ["AUC 0.850 ≥ 0.75."]));
        Assert.Contains("ready to score", cards.Find("[data-testid=grade-summary]").TextContent);
        Assert.Equal("AUC 0.850 ≥ 0.75.", cards.Find("[data-testid=grade-reasons] li").TextContent);
        Assert.Equal("0.310", cards.Find("[data-testid=metric-threshold-value]").TextContent.Trim());
        Assert.Empty(cards.FindAll("[data-testid=grade-baseline]"));
    }

    /// <summary>Held-out counts at 0.01..0.99 of 10 positives and 90 negatives, scores p_i = i / 100 (positives are the top 10).</summary>
    private static IReadOnlyList<ConfusionCounts> Table()
    {
        var p = Enumerable.Range(0, 100).Select(i => i / 100.0).ToArray();
        var y = p.Select(v => v >= 0.9).ToArray();
        return Thresholds.Table(p, y);
    }

    [Fact]
    public async Task The_threshold_picker_shows_exact_counts_at_the_chosen_threshold_and_applies_it()
    {
        double? applied = null;
        var cut = Render<ThresholdPicker>(p => p.Add(x => x.Table, Table()).Add(x => x.Operating, 0.9).Add(x => x.CanApply, true)
            .Add(x => x.OnApply, (double t) => applied = t).Add(x => x.Unit, "profiles"));
        // At the operating threshold 0.90: the 10 positives exactly.
        Assert.Equal("10", cut.Find("[data-testid=confusion-tp]").TextContent);
        Assert.Equal("0", cut.Find("[data-testid=confusion-fp]").TextContent);
        Assert.Contains("F1 1.000", cut.Find("[data-testid=threshold-summary]").TextContent);
        Assert.Contains("0.90", cut.Find("[data-testid=threshold-operating]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=threshold-apply]"));

        // Down to 0.80: 20 predicted positive, 10 of them wrong; precision 0.5, recall 1, F1 0.667.
        var slider = cut.FindComponent<MudSlider<double>>();
        await cut.InvokeAsync(() => slider.Instance.ValueChanged.InvokeAsync(0.8));
        cut.WaitForAssertion(() => Assert.Equal("10", cut.Find("[data-testid=confusion-fp]").TextContent));
        Assert.Equal("80", cut.Find("[data-testid=confusion-tn]").TextContent);
        Assert.Equal("0", cut.Find("[data-testid=confusion-fn]").TextContent);
        Assert.Contains("20 predicted positive · precision 0.500 · recall 1.000 · F1 0.667", cut.Find("[data-testid=threshold-summary]").TextContent);

        cut.Find("[data-testid=threshold-apply] button, button[data-testid=threshold-apply]").Click();
        cut.WaitForAssertion(() => Assert.Equal(0.8, applied));

        // Read-only users get the picker without the button.
        var viewer = Render<ThresholdPicker>(p => p.Add(x => x.Table, Table()).Add(x => x.Operating, 0.5));
        await viewer.InvokeAsync(() => viewer.FindComponent<MudSlider<double>>().Instance.ValueChanged.InvokeAsync(0.3));
        viewer.WaitForAssertion(() => Assert.Equal("60", viewer.Find("[data-testid=confusion-fp]").TextContent));
        Assert.Empty(viewer.FindAll("[data-testid=threshold-apply]"));
    }
}
