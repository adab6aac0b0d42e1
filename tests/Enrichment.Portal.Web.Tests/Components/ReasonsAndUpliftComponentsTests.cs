using System.Text.Json.Nodes;
using Bunit;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Web.Components.Insights;
using Enrichment.Portal.Web.Components.Models;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>Per-profile reasons and uplift on the profile viewer's cards; the uplift charts of a model.</summary>
public sealed class ReasonsAndUpliftComponentsTests : PortalTestContext
{
    [Fact]
    public void A_score_card_shows_its_reasons_with_direction_and_an_uplift_card_shows_points()
    {
        var insights = JsonNode.Parse("""
            {
              "churn": { "score": 0.82, "modelVersion": "v1", "scoredAt": "2026-03-01T10:00:00Z",
                         "reasons": [ { "feature": "tenure", "direction": "low", "contribution": 1.25, "value": "2" },
                                      { "feature": "contract", "direction": "= month-to-month", "contribution": 0.6, "value": "month-to-month" },
                                      { "feature": "spend", "direction": "high", "contribution": -0.2, "value": "95.5" } ] },
              "mens_email": { "uplift": 0.0734, "treated": 0.12, "control": 0.0466, "modelVersion": "v2", "scoredAt": "2026-03-01T10:00:00Z" }
            }
            """)!.AsObject();
        var cut = Render<InsightCards>(p => p.Add(x => x.Insights, insights));
        var churn = cut.Find("[data-testid=insight-card][data-name=churn]");
        var reasons = churn.QuerySelectorAll("[data-testid=insight-reason]");
        Assert.Equal(["tenure low (2)", "contract = month-to-month", "spend high (95.5)"], reasons.Select(r => r.TextContent.Trim()).ToArray());
        Assert.Contains("Raises the score", reasons[0].GetAttribute("title"));
        Assert.Contains("Lowers the score", reasons[2].GetAttribute("title"));
        // The reasons are not repeated as custom fields.
        Assert.Empty(churn.QuerySelectorAll("[data-testid=insight-other]"));

        var uplift = cut.Find("[data-testid=insight-card][data-name=mens_email]");
        Assert.Equal("+7.3 pts", uplift.QuerySelector("[data-testid=insight-uplift-value]")!.TextContent.Trim());
        Assert.Contains("12.0 % if treated, 4.7 % if not", uplift.QuerySelector("[data-testid=insight-uplift]")!.TextContent);
        Assert.Empty(uplift.QuerySelectorAll("[data-testid=insight-other]"));
    }

    [Fact]
    public void Uplift_models_show_uplift_by_decile_against_random_targeting_and_the_qini_curve()
    {
        var deciles = Enumerable.Range(1, 10).Select(d => new UpliftDecile(d, 300, 150, 0.1 + (d == 1 ? 0.1 : 0), 0.1, d == 1 ? 0.1 : 0, 0.11 - d * 0.01)).ToArray();
        var charts = new ModelCharts
        {
            Uplift = deciles, Qini = Enumerable.Range(0, 21).Select(i => new CurvePoint(i / 20.0, Math.Min(i, 2) * 0.005)).ToArray(),
            GradeReasons = ["Qini coefficient 0.00700 (above 0, random targeting)."], BaselineRule = "random targeting (the average effect everywhere)",
        };
        var run = new TrainingRunView("r", "m", TrainingStatus.Succeeded, 1, "done",
            new Dictionary<string, double> { ["qini"] = 0.007, ["ate"] = 0.01, ["upliftTop10"] = 0.1, ["upliftTop30"] = 0.033 }, null,
            new Dictionary<string, double> { ["qini"] = 0, ["ate"] = 0.01 }, "B", [new FeatureImportance("history_segment", 0.005)],
            "v", DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow, null, charts, [], 42, "two-model LightGbm", 4000, 1000, null);
        var cut = Render<ModelChartsView>(p => p.Add(x => x.Run, run).Add(x => x.Recipe, "uplift"));
        Assert.NotNull(cut.Find("[data-testid=chart-uplift] svg"));
        Assert.NotNull(cut.Find("[data-testid=chart-qini] svg"));
        Assert.Contains("random targeting", cut.Find("[data-testid=chart-uplift]").TextContent);
        var first = cut.Find("[data-testid=uplift-decile-1]").TextContent;
        Assert.Contains("20.0 %", first);
        Assert.Contains("10.00 pts", first);
        Assert.Empty(cut.FindAll("[data-testid=chart-roc]"));
        Assert.Empty(cut.FindAll("[data-testid=chart-deciles]"));

        var cards = Render<MetricsCards>(p => p.Add(x => x.Metrics, run.Metrics!).Add(x => x.Grade, "B").Add(x => x.Reasons, charts.GradeReasons).Add(x => x.BaselineRule, charts.BaselineRule));
        Assert.Equal("10.00 pts", cards.Find("[data-testid=metric-upliftTop10-value]").TextContent.Trim());
        Assert.Contains("random targeting", cards.Find("[data-testid=grade-baseline]").TextContent);
    }
}
