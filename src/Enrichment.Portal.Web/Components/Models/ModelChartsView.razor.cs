using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Models;

/// <summary>ROC, precision-recall, lift/gains, calibration, confusion at a chosen threshold, feature importance; CLV deciles; segments.</summary>
public partial class ModelChartsView
{
    [Parameter, EditorRequired] public TrainingRunView Run { get; set; } = default!;
    [Parameter] public string? Recipe { get; set; }
    /// <summary>Whether the user may set the operating threshold (a scientist, on a version).</summary>
    [Parameter] public bool CanSetThreshold { get; set; }
    [Parameter] public EventCallback<double> OnThresholdApplied { get; set; }

    private ModelCharts Charts => Run.Charts ?? new ModelCharts();
    private bool IsBinary => Recipe is null ? Charts.Roc.Count > 0 : RecipeCatalog.IsBinary(Recipe);
    private IReadOnlyList<FeatureImportance> Importance => (Run.FeatureImportance ?? []).OrderByDescending(f => f.Importance).Take(15).ToList();
    private double MaxImportance => Importance.Count == 0 ? 0 : Importance.Max(f => f.Importance);
    private IReadOnlyDictionary<string, double> FittedParameters => Run.FittedParameters ?? new Dictionary<string, double>();

    // Rates are shown in percent: MudChart's y-axis tick step is a whole number.
    private readonly LineChartOptions lineOptions = new() { ShowLegend = true, YAxisTicks = 20, YAxisSuggestedMax = 100, YAxisTitle = "%" };
    private BarChartOptions barOptions = new() { ShowLegend = false, YAxisTicks = 1 };
    private BarChartOptions legendBarOptions = new() { ShowLegend = true };

    private static double[] Percent(IEnumerable<double> values) => values.Select(v => Math.Round(v * 100, 2)).ToArray();

    /// <summary>A whole-number tick step giving about five ticks up to <paramref name="max"/>.</summary>
    public static int TickStep(double max)
    {
        if (max <= 5) return 1;
        var raw = max / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        return (int)Math.Max(1, step);
    }
    private List<ChartSeries<double>> rocSeries = [], prSeries = [], liftSeries = [], gainsSeries = [], calibrationSeries = [], decileSeries = [], clusterSeries = [];
    private string[] decileLabels = [], calibrationLabels = [], clusterLabels = [];
    private double threshold = 0.5;
    private ConfusionCounts confusion = new(0.5, 0, 0, 0, 0);

    private double Precision => confusion.TruePositives + confusion.FalsePositives == 0 ? 0 : (double)confusion.TruePositives / (confusion.TruePositives + confusion.FalsePositives);
    private double Recall => confusion.TruePositives + confusion.FalseNegatives == 0 ? 0 : (double)confusion.TruePositives / (confusion.TruePositives + confusion.FalseNegatives);
    private double FlaggedShare
    {
        get
        {
            var total = confusion.TruePositives + confusion.FalsePositives + confusion.TrueNegatives + confusion.FalseNegatives;
            return total == 0 ? 0 : (double)(confusion.TruePositives + confusion.FalsePositives) / total;
        }
    }

    protected override void OnParametersSet()
    {
        var c = Charts;
        rocSeries =
        [
            new ChartSeries<double> { Name = "model", Data = Percent(ModelChartSeries.RocOnGrid(c.Roc)) },
            new ChartSeries<double> { Name = "random", Data = Percent(ModelChartSeries.Grid) },
        ];
        var positiveRate = c.Deciles.Count == 0 ? 0 : c.Deciles.Sum(d => d.MeanActual * d.Rows) / Math.Max(1, c.Deciles.Sum(d => d.Rows));
        prSeries =
        [
            new ChartSeries<double> { Name = "precision", Data = Percent(ModelChartSeries.PrecisionOnGrid(c.PrecisionRecall)) },
            new ChartSeries<double> { Name = "positive rate", Data = Percent(ModelChartSeries.Grid.Select(_ => positiveRate)) },
        ];
        decileLabels = c.Deciles.Select(d => d.Decile.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        liftSeries = [new ChartSeries<double> { Name = "lift", Data = c.Deciles.Select(d => d.Lift).ToArray() }];
        gainsSeries =
        [
            new ChartSeries<double> { Name = "model", Data = Percent(c.Deciles.Select(d => d.CumulativeGain)) },
            new ChartSeries<double> { Name = "random", Data = Percent(c.Deciles.Select(d => d.Decile / 10.0)) },
        ];
        calibrationLabels = c.Calibration.Select(b => ModelChartSeries.Label(b.MeanPredicted)).ToArray();
        calibrationSeries =
        [
            new ChartSeries<double> { Name = "observed", Data = Percent(c.Calibration.Select(b => b.ObservedRate)) },
            new ChartSeries<double> { Name = "predicted", Data = Percent(c.Calibration.Select(b => b.MeanPredicted)) },
        ];
        decileSeries =
        [
            new ChartSeries<double> { Name = "predicted", Data = c.Deciles.Select(d => d.MeanPredicted).ToArray() },
            new ChartSeries<double> { Name = "actual", Data = c.Deciles.Select(d => d.MeanActual).ToArray() },
        ];
        barOptions = new BarChartOptions { ShowLegend = false, YAxisTicks = TickStep(c.Deciles.Select(d => d.Lift).DefaultIfEmpty(1).Max()), YAxisTitle = "lift" };
        legendBarOptions = new BarChartOptions { ShowLegend = true, YAxisTicks = TickStep(c.Deciles.SelectMany(d => new[] { d.MeanPredicted, d.MeanActual }).DefaultIfEmpty(1).Max()) };
        clusterLabels = c.Clusters.Select(k => $"{k.Segment}: {k.Description}").ToArray();
        clusterSeries = [new ChartSeries<double> { Name = "customers", Data = c.Clusters.Select(k => (double)k.Size).ToArray() }];
        confusion = ModelChartSeries.ConfusionAt(c.Calibration, threshold);
        var ate = Run.Baseline?.GetValueOrDefault("ate") ?? 0;
        upliftLabels = c.Uplift.Select(d => d.Decile.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        upliftSeries =
        [
            new ChartSeries<double> { Name = "observed uplift", Data = c.Uplift.Select(d => Math.Round(d.ObservedUplift * 100, 2)).ToArray() },
            new ChartSeries<double> { Name = "random targeting", Data = c.Uplift.Select(_ => Math.Round(ate * 100, 2)).ToArray() },
        ];
        upliftOptions = new BarChartOptions { ShowLegend = true, YAxisTicks = TickStep(c.Uplift.Select(d => Math.Abs(d.ObservedUplift * 100)).DefaultIfEmpty(1).Max()), YAxisTitle = "points" };
        var last = c.Qini.Count == 0 ? 0 : c.Qini[^1].Y;
        qiniLabels = c.Qini.Select(q => Format.Percent(q.X)).ToArray();
        qiniSeries =
        [
            new ChartSeries<double> { Name = "model", Data = c.Qini.Select(q => Math.Round(q.Y * 1000, 2)).ToArray() },
            new ChartSeries<double> { Name = "random", Data = c.Qini.Select(q => Math.Round(q.X * last * 1000, 2)).ToArray() },
        ];
        qiniOptions = new LineChartOptions { ShowLegend = true, YAxisTicks = TickStep(c.Qini.Select(q => Math.Abs(q.Y * 1000)).DefaultIfEmpty(1).Max()), YAxisTitle = "per 1,000" };
    }

    private List<ChartSeries<double>> upliftSeries = [], qiniSeries = [];
    private string[] upliftLabels = [], qiniLabels = [];
    private BarChartOptions upliftOptions = new();
    private LineChartOptions qiniOptions = new();

    private void OnThreshold(double value)
    {
        threshold = Math.Round(value, 1);
        confusion = ModelChartSeries.ConfusionAt(Charts.Calibration, threshold);
    }
}
