using System.Globalization;

namespace Enrichment.Portal.Web;

/// <summary>Numbers and durations for people (UX.md): 1,234,567; 12.3 s; 0.853.</summary>
public static class Format
{
    private static readonly CultureInfo Culture = CultureInfo.GetCultureInfo("en-US");

    public static string Count(long n) => n.ToString("N0", Culture);
    public static string Number(double v, int decimals = 3) => double.IsNaN(v) ? "—" : v.ToString("N" + decimals, Culture);
    public static string Percent(double fraction, int decimals = 1) => (fraction * 100).ToString("N" + decimals, Culture) + " %";

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
