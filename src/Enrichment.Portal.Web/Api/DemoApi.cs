using System.Security.Claims;
using Enrichment.Portal.Core.Demo;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Web.Auth;

namespace Enrichment.Portal.Web.Api;

/// <summary><c>POST /api/v1/demo</c>: "Load the demo" (sandbox <c>demo</c> from the shipped Online Retail data) as a background job.</summary>
public static class DemoApi
{
    public sealed record DemoStarted(string JobId, string Sandbox, string SandboxId);

    public static void MapDemoApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/demo", async Task<IResult> (ClaimsPrincipal user, IServiceScopeFactory scopes, JobScheduler jobs, CancellationToken ct) =>
        {
            var sandboxId = await DemoJob.EnsureSandboxAsync(scopes, DemoJob.SandboxName, user.UserId(), user.Actor(), ct);
            var run = await jobs.EnqueueAsync(DemoJob.Kind, DemoJob.SandboxName, user.Actor(), ct);
            return Results.Accepted($"/api/v1/jobs/{run.Id}", new DemoStarted(run.Id, DemoJob.SandboxName, sandboxId));
        }).RequireAuthorization(Policies.Engineer).WithTags("Demo").WithName("LoadDemo")
          .WithSummary("Creates (or reuses) sandbox demo and fills it from the shipped Online Retail data: schema, dataset, ingestion, a trained churn model, scores as insights and an audience. Idempotent.");
    }
}
