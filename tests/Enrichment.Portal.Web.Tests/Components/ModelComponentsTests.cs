using Bunit;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Web.Components.Models;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class ModelComponentsTests : PortalTestContext
{
    /// <summary>A run as the API returns it: 1,000 held-out rows, 100 positives, calibration bins with their counts.</summary>
    private static TrainingRunView BinaryRun()
    {
        var calibration = new List<CalibrationBin>
        {
            new(0.03, 0.02, 600), new(0.14, 0.10, 200), new(0.25, 0.25, 80), new(0.55, 0.50, 80), new(0.85, 0.85, 40),
        };
        var charts = new ModelCharts
        {
            Roc = [new(0, 0), new(0.1, 0.5), new(0.3, 0.8), new(1, 1)],
            PrecisionRecall = [new(0.1, 0.9), new(0.5, 0.5), new(1, 0.1)],
            Deciles = Enumerable.Range(1, 10).Select(d => new DecileRow(d, 100, 0.5 / d, 0.4 / d, 4.0 / d, Math.Min(1, d * 0.2))).ToList(),
            Calibration = calibration,
            Confusion = new ConfusionCounts(0.5, 74, 46, 854, 26),
        };
        return new TrainingRunView("run1", "model1", TrainingStatus.Succeeded, 1, "done",
            new Dictionary<string, double> { ["auc"] = 0.8531, ["prAuc"] = 0.44, ["logLoss"] = 0.25, ["f1"] = 0.52, ["accuracy"] = 0.91, ["lift10"] = 4.02 },
            new Dictionary<string, double>(), new Dictionary<string, double> { ["auc"] = 0.5, ["logLoss"] = 0.33 }, "A",
            [new FeatureImportance("poutcome", 0.05), new FeatureImportance("month", 0.03), new FeatureImportance("age", 0.01)],
            "v1", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow, null, charts,
            ["0.1s 0% loading", "1.0s 100% done"], 42, "LightGbm", 4000, 1000, "job1");
    }

    [Fact]
    public void Metrics_cards_show_each_metric_for_people_with_its_baseline_and_the_grade()
    {
        var run = BinaryRun();
        var cut = Render<MetricsCards>(p => p.Add(x => x.Metrics, run.Metrics!).Add(x => x.Baseline, run.Baseline).Add(x => x.Grade, run.Grade));
        Assert.Equal("0.853", cut.Find("[data-testid=metric-auc-value]").TextContent.Trim());
        Assert.Equal("baseline 0.500", cut.Find("[data-testid=metric-auc-baseline]").TextContent.Trim());
        Assert.Equal("4.020", cut.Find("[data-testid=metric-lift10-value]").TextContent.Trim());
        Assert.Contains("Grade A", cut.Find("[data-testid=model-grade]").TextContent);
        var order = cut.FindAll("[data-testid^=metric-][title]").Select(e => e.GetAttribute("data-testid")).ToList();
        Assert.Equal(["metric-auc", "metric-prAuc", "metric-logLoss", "metric-f1", "metric-accuracy", "metric-lift10"], order);
    }

    [Fact]
    public async Task Charts_render_roc_lift_calibration_importance_and_a_confusion_matrix_that_follows_the_threshold()
    {
        var cut = Render<ModelChartsView>(p => p.Add(x => x.Run, BinaryRun()).Add(x => x.Recipe, "propensity"));
        foreach (var id in new[] { "chart-roc", "chart-pr", "chart-lift", "chart-gains", "chart-calibration", "chart-importance", "confusion-matrix" })
            Assert.NotNull(cut.Find($"[data-testid={id}]"));
        Assert.NotEmpty(cut.Find("[data-testid=chart-roc]").GetElementsByTagName("svg"));
        Assert.NotEmpty(cut.Find("[data-testid=chart-roc]").GetElementsByTagName("path"));
        Assert.Contains("poutcome", cut.Find("[data-testid=chart-importance]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=chart-clusters]"));

        // At 0.5 the bins from 0.5 up are flagged: 80 * 0.5 + 40 * 0.85 = 74 of the 126 positives, 46 of the 874 negatives.
        Assert.Equal("74", cut.Find("[data-testid=confusion-tp]").TextContent);
        Assert.Equal("46", cut.Find("[data-testid=confusion-fp]").TextContent);
        Assert.Equal("52", cut.Find("[data-testid=confusion-fn]").TextContent);
        Assert.Equal("828", cut.Find("[data-testid=confusion-tn]").TextContent);

        var slider = cut.FindComponent<MudSlider<double>>();
        await cut.InvokeAsync(() => slider.Instance.ValueChanged.InvokeAsync(0.2));
        // At 0.2 the 0.25 bin joins: + 20 positives, + 60 negatives.
        cut.WaitForAssertion(() => Assert.Equal("94", cut.Find("[data-testid=confusion-tp]").TextContent));
        Assert.Equal("106", cut.Find("[data-testid=confusion-fp]").TextContent);
    }

    [Fact]
    public void Segmentation_runs_show_cluster_sizes_and_descriptions()
    {
        var run = BinaryRun() with
        {
            Metrics = new Dictionary<string, double> { ["silhouette"] = 0.71, ["k"] = 3 },
            Charts = new ModelCharts
            {
                Clusters =
                [
                    new ClusterInfo(1, 120, "high frequency, low spend", new Dictionary<string, double>()),
                    new ClusterInfo(2, 80, "low frequency, high spend", new Dictionary<string, double>()),
                    new ClusterInfo(3, 100, "average", new Dictionary<string, double>()),
                ],
            },
            FeatureImportance = [],
        };
        var cut = Render<ModelChartsView>(p => p.Add(x => x.Run, run).Add(x => x.Recipe, "segmentation"));
        Assert.Contains("high frequency, low spend", cut.Find("[data-testid=cluster-1]").TextContent);
        Assert.NotNull(cut.Find("[data-testid=chart-clusters] svg"));
        Assert.Empty(cut.FindAll("[data-testid=chart-roc]"));
        var cards = Render<MetricsCards>(p => p.Add(x => x.Metrics, run.Metrics!));
        Assert.Equal("3", cards.Find("[data-testid=metric-k-value]").TextContent.Trim());
        Assert.Equal("0.710", cards.Find("[data-testid=metric-silhouette-value]").TextContent.Trim());
    }

    [Fact]
    public void Roc_on_the_grid_interpolates_between_points()
    {
        var tpr = ModelChartSeries.RocOnGrid([new(0, 0), new(0.1, 0.5), new(0.3, 0.8), new(1, 1)]);
        Assert.Equal(21, tpr.Length);
        Assert.Equal(0.5, tpr[2], 9);   // fpr 0.1
        Assert.Equal(0.65, tpr[4], 9);  // fpr 0.2, halfway between 0.5 and 0.8
        Assert.Equal(1, tpr[^1], 9);
    }
}

public sealed class ModelFormLogicTests
{
    [Theory]
    [InlineData("true", "no,yes", "yes")]
    [InlineData("yes", "no,yes", "yes")]
    [InlineData(null, "Stayed,Churned", "Churned")]
    [InlineData("1", "0,1", "1")]
    public void The_positive_label_value_is_one_of_the_column_values(string? statsPositive, string values, string expected) =>
        Assert.Equal(expected, ModelForm.GuessPositive(statsPositive, values.Split(',')));
}
