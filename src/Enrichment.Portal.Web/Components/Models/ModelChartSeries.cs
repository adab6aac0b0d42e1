using System.Globalization;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Web.Components.Models;

/// <summary>Chart-ready series from a run's <see cref="ModelCharts"/> (MudChart needs equally spaced x labels: curves are read on fixed grids).</summary>
public static class ModelChartSeries
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>The x grid of the ROC and precision-recall charts: 0, 0.05, ..., 1.</summary>
    public static readonly double[] Grid = Enumerable.Range(0, 21).Select(i => i / 20.0).ToArray();

    public static string[] GridLabels => Grid.Select((x, i) => i % 2 == 0 ? x.ToString("0.0", Culture) : "").ToArray();

    /// <summary>True positive rate at each false positive rate of <see cref="Grid"/> (linear interpolation of the ROC points).</summary>
    public static double[] RocOnGrid(IReadOnlyList<CurvePoint> roc) => Grid.Select(x => Interpolate(roc, x)).ToArray();

    /// <summary>Interpolated precision (the best precision at recall at least r) at each recall of <see cref="Grid"/>.</summary>
    public static double[] PrecisionOnGrid(IReadOnlyList<CurvePoint> pr) =>
        Grid.Select(r => pr.Where(p => p.X >= r - 1e-12).Select(p => p.Y).DefaultIfEmpty(0).Max()).ToArray();

    private static double Interpolate(IReadOnlyList<CurvePoint> pts, double x)
    {
        if (pts.Count == 0) return 0;
        var sorted = pts.OrderBy(p => p.X).ThenBy(p => p.Y).ToList();
        if (x <= sorted[0].X) return sorted[0].Y;
        for (var i = 1; i < sorted.Count; i++)
        {
            var (a, b) = (sorted[i - 1], sorted[i]);
            if (x > b.X) continue;
            if (b.X - a.X < 1e-12) return Math.Max(a.Y, b.Y);
            return a.Y + (b.Y - a.Y) * (x - a.X) / (b.X - a.X);
        }
        return sorted[^1].Y;
    }

    /// <summary>Thresholds the confusion matrix slider offers: the calibration bin edges 0.1 ... 0.9.</summary>
    public static readonly double[] Thresholds = Enumerable.Range(1, 9).Select(i => i / 10.0).ToArray();

    /// <summary>
    /// The confusion counts at <paramref name="threshold"/> (a multiple of 0.1), exactly from the calibration bins
    /// (bins are [0.1 b, 0.1 (b+1)) of the predicted probability with their row counts and observed positive rates).
    /// </summary>
    public static ConfusionCounts ConfusionAt(IReadOnlyList<CalibrationBin> bins, double threshold)
    {
        int tp = 0, fp = 0, tn = 0, fn = 0;
        foreach (var bin in bins)
        {
            var lower = Math.Min(9, (int)Math.Floor(bin.MeanPredicted * 10 + 1e-9)) / 10.0;
            var positives = (int)Math.Round(bin.ObservedRate * bin.Rows);
            var negatives = bin.Rows - positives;
            if (lower >= threshold - 1e-9) { tp += positives; fp += negatives; }
            else { fn += positives; tn += negatives; }
        }
        return new ConfusionCounts(threshold, tp, fp, tn, fn);
    }

    public static string Label(double v) => v.ToString("0.00", Culture);
}
