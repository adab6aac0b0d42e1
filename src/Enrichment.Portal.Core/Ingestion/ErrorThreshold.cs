using System.Globalization;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>The error-threshold rule of a batch.</summary>
public static class ErrorThreshold
{
    /// <summary>Rejected share in percent (0 when nothing was read).</summary>
    public static double RejectedPercent(long read, long failed) => read <= 0 ? 0 : failed * 100.0 / read;

    /// <summary>
    /// Null when the batch passes; otherwise the failure reason, e.g. "12.4% of records were rejected (124 of 1000), above the 5% threshold".
    /// The batch fails only when the rejected share is strictly above the threshold (5 of 100 at 5% passes).
    /// </summary>
    public static string? Check(long read, long failed, double thresholdPercent)
    {
        if (failed <= 0) return null;
        // Compare exactly with integers where possible: failed/read > t/100  <=>  failed*100 > t*read.
        if (failed * 100.0 <= thresholdPercent * read) return null;
        var pct = RejectedPercent(read, failed);
        var shown = pct.ToString(pct < 0.1 ? "0.###" : "0.#", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{shown}% of records were rejected ({failed:N0} of {read:N0}), above the {thresholdPercent}% threshold");
    }
}
