using System.Globalization;
using Enrichment.Portal.Core.Scoring;

namespace Enrichment.Portal.Web.Components.Scoring;

/// <summary>Cron expressions for people: a sentence for the usual shapes, and the next times it fires (UTC).</summary>
public static class CronText
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    /// <summary>"every day at 03:00 UTC", "every Monday at 06:30 UTC", "every 15 minutes", …; null when the expression is not valid.</summary>
    public static string? Describe(string? cron)
    {
        if (ScoringService.ParseCron(cron, out _) is null) return null;
        var f = cron!.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length == 6) f = f[1..];
        var (min, hour, dom, month, dow) = (f[0], f[1], f[2], f[3], f[4]);
        bool Num(string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        string At() => Num(hour, out var h) && Num(min, out var m) ? $"at {h:00}:{m:00} UTC" : "";
        if (min.StartsWith("*/") && hour == "*" && dom == "*" && month == "*" && dow == "*") return $"every {min[2..]} minutes";
        if (min == "*" && hour == "*" && dom == "*" && month == "*" && dow == "*") return "every minute";
        if (Num(min, out var mm) && hour == "*" && dom == "*" && month == "*" && dow == "*") return $"every hour at minute {mm}";
        if (Num(min, out _) && hour.StartsWith("*/") && dom == "*" && month == "*" && dow == "*") return $"every {hour[2..]} hours at minute {min}";
        if (Num(min, out _) && Num(hour, out _) && month == "*")
        {
            if (dom == "*" && dow == "*") return "every day " + At();
            if (dom == "*" && (dow is "1-5" or "MON-FRI")) return "every weekday " + At();
            if (dom == "*" && Num(dow, out var d) && d is >= 0 and <= 7) return $"every {Days[d % 7]} {At()}";
            if (Num(dom, out var day) && dow == "*") return $"on day {day} of every month {At()}";
        }
        return "on a custom schedule (UTC)";
    }

    /// <summary>The next <paramref name="count"/> times the expression fires after <paramref name="after"/>.</summary>
    public static IReadOnlyList<DateTimeOffset> Next(string? cron, DateTimeOffset after, int count = 5)
    {
        var list = new List<DateTimeOffset>();
        if (ScoringService.ParseCron(cron, out _) is null) return list;
        var t = after;
        while (list.Count < count && ScoringService.NextOccurrence(cron!, t) is { } n)
        {
            list.Add(n);
            t = n;
        }
        return list;
    }
}
