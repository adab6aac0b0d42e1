using System.Globalization;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Web.Auth;
using System.Security.Claims;

namespace Enrichment.Portal.Web.Api;

public static class DiagnosticsApi
{
    /// <summary><c>POST /api/v1/diagnostics/jobs?seconds=&amp;fail=</c>: a self-test job of the given length (admins).</summary>
    public static void MapDiagnosticsApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/diagnostics/jobs", async Task<IResult> (double? seconds, bool? fail, ClaimsPrincipal user, JobScheduler jobs, CancellationToken ct) =>
        {
            var s = seconds ?? 5;
            if (s is < 0 or > 3600) return ApiProblems.Validation("seconds", "seconds must be between 0 and 3600.");
            var run = await jobs.EnqueueAsync(DiagnosticJob.Kind, s.ToString(CultureInfo.InvariantCulture) + (fail == true ? ":fail" : ""), user.Actor(), ct);
            return TypedResults.Accepted($"/api/v1/jobs/{run.Id}", JobDto.From(run));
        }).RequireAuthorization(Policies.Admin).WithTags("Jobs").WithName("StartDiagnosticJob")
          .WithSummary("A self-test of the job pipeline: works for the given seconds, then succeeds (or fails on request)");
    }
}
