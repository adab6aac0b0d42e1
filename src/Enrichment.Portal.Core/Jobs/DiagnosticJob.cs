using System.Globalization;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// A self-test of the job pipeline (queue, worker, status row, progress, restart recovery): works for the given
/// number of seconds, reporting progress, and fails on request. Target id: <c>seconds[:fail]</c>.
/// </summary>
public sealed class DiagnosticJob(JobProgress progress) : IPortalJob
{
    public const string Kind = "diagnostic";

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var parts = targetId.Split(':');
        var seconds = Math.Clamp(double.Parse(parts[0], CultureInfo.InvariantCulture), 0, 3600);
        var steps = Math.Max(1, (int)(seconds * 4));
        for (var i = 0; i < steps && seconds > 0; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds / steps), ct);
            await progress.ReportAsync((i + 1.0) / steps, $"step {i + 1} of {steps}", ct: ct);
        }
        if (parts.Length > 1 && parts[1] == "fail") throw new JobFailedException("The diagnostic job was asked to fail.");
    }
}
