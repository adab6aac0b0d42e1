using System.Globalization;

namespace Enrichment.Portal.Web;

/// <summary>Numbers and durations for people (UX.md): 1,234,567; 12.3 s; 0.853.</summary>
public static class Format
{
    private static readonly CultureInfo Culture = CultureInfo.GetCultureInfo("en-US");

    public static string Count(long n) => n.ToString("N0", Culture);
    public static string Number(double v, int decimals = 3) => double.IsNaN(v) ? "—" : v.ToString("N" + decimals, Culture);
    public static string Percent(double fraction, int decimals = 1) => (fraction * 100).ToString("N" + decimals, Culture) + " %";

    /// <summary>A table cell: numbers with thousands separators (integers without decimals, others with up to 6 significant decimals); the rest as text.</summary>
    public static string Cell(object? value) => value switch
    {
        null => "",
        long or int or short or byte or sbyte or ushort or uint or ulong => ((IFormattable)value).ToString("N0", Culture),
        double d when double.IsFinite(d) => d.ToString("#,##0.######", Culture),
        float f when float.IsFinite(f) => f.ToString("#,##0.######", Culture),
        decimal m => m.ToString("#,##0.######", Culture),
        System.Numerics.BigInteger b => b.ToString("N0", Culture),
        _ => Enrichment.Portal.Web.Components.Pages.Query.QueryCsv.Display(value),
    };

    /// <summary>Whether a value is a number (right-aligned in tables).</summary>
    public static bool IsNumber(object? value) =>
        value is long or int or short or byte or sbyte or ushort or uint or ulong or double or float or decimal or System.Numerics.BigInteger;

    /// <summary>
    /// Axis or bin labels: the fewest decimals (at least <paramref name="minDecimals"/>, at most 6) that keep distinct values
    /// apart, with thousands separators (0.0004 and 0.00045 -> "0.00040", "0.00045"; 1200, 1500 -> "1,200", "1,500").
    /// </summary>
    public static IReadOnlyList<string> Ticks(IReadOnlyList<double> values, int minDecimals = 0)
    {
        var finite = values.Where(double.IsFinite).Distinct().Order().ToList();
        var gap = finite.Zip(finite.Skip(1), (a, b) => b - a).DefaultIfEmpty(double.PositiveInfinity).Min();
        for (var d = Math.Clamp(minDecimals, 0, 6); d <= 6; d++)
        {
            var labels = values.Select(v => v.ToString("N" + d, Culture)).ToList();
            var exact = finite.All(v => Math.Abs(Math.Round(v, d) - v) < 1e-12);
            // Distinct labels whose rounding is small next to the gap between neighbours (0.5, 1.0, 1.5 is not "0", "1", "2").
            var close = 0.5 * Math.Pow(10, -d) <= 0.1 * gap;
            if (d == 6 || (labels.Distinct().Count() >= finite.Count && (exact || close))) return labels;
        }
        return values.Select(v => v.ToString("N6", Culture)).ToList();
    }

    public static string Duration(TimeSpan t) => t.TotalSeconds switch
    {
        < 1 => $"{t.TotalMilliseconds:N0} ms",
        < 60 => t.TotalSeconds.ToString("N1", Culture) + " s",
        < 3600 => $"{(int)t.TotalMinutes} min {t.Seconds} s",
        _ => $"{(int)t.TotalHours} h {t.Minutes} min",
    };

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("N1", Culture) + " KB",
        < 1024L * 1024 * 1024 => (bytes / 1024.0 / 1024).ToString("N1", Culture) + " MB",
        _ => (bytes / 1024.0 / 1024 / 1024).ToString("N2", Culture) + " GB",
    };
}
