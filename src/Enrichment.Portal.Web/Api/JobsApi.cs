using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
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
            return Results.Ok(await paging.ApplyAsync(q.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Id), JobDto.From, ct));
        }).WithName("ListJobs").WithSummary("Background jobs of the sandbox, newest first");

        jobs.MapGet("/{id}", async (string id, CatalogDb db, CancellationToken ct) =>
            await db.Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct) is { } run
                ? Results.Ok(JobDto.From(run))
                : ApiProblems.NotFound($"No job {id} in this sandbox."))
            .WithName("GetJob").WithSummary("One job with its status and progress");

        jobs.MapPost("/{id}/cancel", async (string id, JobScheduler scheduler, CatalogDb db, CancellationToken ct) =>
        {
            if (!await db.Set<JobRun>().AnyAsync(r => r.Id == id, ct)) return ApiProblems.NotFound($"No job {id} in this sandbox.");
            return await scheduler.CancelAsync(id, ct)
                ? Results.Accepted($"/api/v1/jobs/{id}", new { id, status = JobStatus.Cancelled })
                : ApiProblems.Conflict("The job has already finished.");
        }).RequireAuthorization(Policies.Write).WithName("CancelJob").WithSummary("Stop a queued or running job");
    }
}
