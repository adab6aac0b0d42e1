using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using System.Security.Claims;
using Enrichment.Portal.Web.Auth;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Api;

public sealed record JobDto(string Id, string Kind, string Status, double Progress, string? ProgressText, string? TargetId,
    int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error)
{
    public static JobDto From(JobRun r) => new(r.Id, r.Kind, r.Status, r.Progress, r.ProgressText, r.TargetId, r.Attempts,
        r.CreatedAt, r.StartedAt, r.FinishedAt, r.Error);
}

public static class JobsApi
{
    public static void MapJobsApi(this RouteGroupBuilder v1)
    {
        var jobs = v1.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapGet("/", async (string? status, string? kind, int? limit, string? cursor, CatalogDb db, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            var q = db.Set<JobRun>().AsNoTracking();
            if (!string.IsNullOrEmpty(status)) q = q.Where(r => r.Status == status);
            if (!string.IsNullOrEmpty(kind)) q = q.Where(r => r.Kind == kind);
            return TypedResults.Ok(await paging.ApplyAsync(q.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Id), JobDto.From, ct));
        }).WithName("ListJobs").WithSummary("Background jobs of the sandbox, newest first");

        jobs.MapGet("/{id}", async Task<IResult> (string id, CatalogDb db, CancellationToken ct) =>
            await db.Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct) is { } run
                ? TypedResults.Ok(JobDto.From(run))
                : ApiProblems.NotFound($"No job {id} in this sandbox."))
            .WithName("GetJob").WithSummary("One job with its status and progress");

        jobs.MapPost("/{id}/cancel", async (string id, ClaimsPrincipal user, JobScheduler scheduler, JobKindRegistry kinds, CatalogDb db, CancellationToken ct) =>
        {
            var run = await db.Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
            if (run is null) return ApiProblems.NotFound($"No job {id} in this sandbox.");
            var policy = kinds.StartPolicy(run.Kind);
            if (!user.HasPolicy(policy))
                return TypedResults.Problem(statusCode: 403, title: "Forbidden",
                    detail: $"Only the roles that start {run.Kind} jobs ({string.Join(", ", Policies.RolesFor[policy])}) may cancel them.");
            var result = await scheduler.CancelAsync(id, user.Actor(), ct);
            return result.Outcome == JobCancelOutcome.Cancelled
                ? (IResult)TypedResults.Accepted($"/api/v1/jobs/{id}", new { id, status = JobStatus.Cancelled })
                : ApiProblems.Conflict(result.Message);
        }).RequireAuthorization(Policies.Write).WithName("CancelJob")
            .WithSummary("Stop a queued or running job (the roles that start its kind); 409 when it has finished or is past its commit point");
    }
}
