using System.Security.Claims;
using System.Text.Json;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Web.Auth;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

public sealed record ProfileDto(string ProfileId, IReadOnlyList<ProfileIdentityView> Identities, System.Text.Json.Nodes.JsonObject Attributes,
    System.Text.Json.Nodes.JsonObject Insights, IReadOnlyList<object> Segments, IReadOnlyDictionary<string, string> Provenance,
    DateTimeOffset UpdatedAt, string? MergePolicyId)
{
    public static ProfileDto From(ProfileView v, IReadOnlyList<ProfileSegment>? segments = null) =>
        new(v.ProfileId, v.Identities, v.Attributes, v.Insights, [.. segments ?? []], v.Provenance, v.UpdatedAt, v.MergePolicyId);
}

public sealed record MergePolicyDto(string Id, string Name, string Method, IReadOnlyList<string> DatasetOrder, bool IsDefault, DateTimeOffset CreatedAt)
{
    public static MergePolicyDto From(MergePolicy p) => new(p.Id, p.Name, p.Method, p.DatasetOrder, p.IsDefault, p.CreatedAt);
}

/// <summary>API.md "Profiles" and "Merge policies", plus <c>POST /datasets/{id}/reprocess-profile</c> and <c>POST /profiles/snapshot</c>.</summary>
public static class ProfilesApi
{
    public static void MapProfilesApi(this RouteGroupBuilder v1)
    {
        var profiles = v1.MapGroup("/profiles").WithTags("Profiles");

        profiles.MapGet("/", async Task<IResult> (string? @namespace, string? id, string? mergePolicyId, ProfileService service, MergePolicyService policies, AudienceService audiences, CatalogDb db, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(@namespace)) errors["namespace"] = ["namespace is required."];
            if (string.IsNullOrWhiteSpace(id)) errors["id"] = ["id is required."];
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            if (!string.IsNullOrEmpty(mergePolicyId) && await policies.FindAsync(db.Sandbox.Require(), mergePolicyId, ct) is null)
                return ApiProblems.NotFound($"No merge policy {mergePolicyId} in this sandbox.");
            var view = await service.GetAsync(@namespace!, id!, mergePolicyId, ct);
            return view is null ? ApiProblems.NotFound($"No profile has the identity {@namespace}:{id}.") : TypedResults.Ok(ProfileDto.From(view, await audiences.SegmentsOfAsync(view.ProfileId, ct)));
        }).WithName("GetProfileByIdentity").WithSummary("The unified profile of an identity (?namespace=&id=[&mergePolicyId=]); 404 when no profile has it");

        profiles.MapGet("/stats", async (ProfileService service, CancellationToken ct) => TypedResults.Ok(await service.StatsAsync(ct)))
            .WithName("GetProfileStats").WithSummary("{ profiles, identities, events, graphsOverLimit }");

        profiles.MapGet("/sample", async (int? limit, ProfileService service, CancellationToken ct) =>
            TypedResults.Ok(new { items = await service.SampleAsync(Math.Clamp(limit ?? 10, 1, 100), ct) }))
            .WithName("SampleProfiles").WithSummary("Profile ids of a few recently updated profiles");

        profiles.MapGet("/{profileId}", async Task<IResult> (string profileId, string? mergePolicyId, ProfileService service, MergePolicyService policies, AudienceService audiences, CatalogDb db, CancellationToken ct) =>
        {
            if (!string.IsNullOrEmpty(mergePolicyId) && await policies.FindAsync(db.Sandbox.Require(), mergePolicyId, ct) is null)
                return ApiProblems.NotFound($"No merge policy {mergePolicyId} in this sandbox.");
            var view = await service.GetByIdAsync(profileId, mergePolicyId, ct);
            return view is null ? ApiProblems.NotFound($"No profile {profileId} in this sandbox.") : TypedResults.Ok(ProfileDto.From(view, await audiences.SegmentsOfAsync(view.ProfileId, ct)));
        }).WithName("GetProfile").WithSummary("A profile by id (a merged-away id resolves)");

        profiles.MapGet("/{profileId}/graph", async Task<IResult> (string profileId, ProfileService service, CancellationToken ct) =>
        {
            if (await service.ResolveAsync(profileId, ct) is null) return ApiProblems.NotFound($"No profile {profileId} in this sandbox.");
            return TypedResults.Ok(await service.GetGraphAsync(profileId, ct));
        }).WithName("GetProfileGraph").WithSummary("The identity graph of a profile: nodes, edges, evicted identities");

        profiles.MapGet("/{profileId}/events", async Task<IResult> (string profileId, string? eventType, int? limit, ProfileService service, CancellationToken ct) =>
        {
            var l = limit ?? Paging.DefaultLimit;
            if (l < 1 || l > Paging.MaxLimit) return ApiProblems.Validation("limit", $"limit must be between 1 and {Paging.MaxLimit}.");
            if (await service.ResolveAsync(profileId, ct) is null) return ApiProblems.NotFound($"No profile {profileId} in this sandbox.");
            var events = await service.GetEventsAsync(profileId, string.IsNullOrWhiteSpace(eventType) ? null : eventType, l, ct);
            return TypedResults.Ok(new { items = events, nextCursor = (string?)null });
        }).WithName("GetProfileEvents").WithSummary("Events of a profile, newest first (?eventType=&limit=)");

        profiles.MapDelete("/", async Task<IResult> (string? @namespace, string? id, ClaimsPrincipal user, ProfilePrivacy privacy, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(@namespace)) errors["namespace"] = ["namespace is required."];
            if (string.IsNullOrWhiteSpace(id)) errors["id"] = ["id is required."];
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            var run = await privacy.RequestDeleteAsync(@namespace!, id!, user.Actor(), ct);
            return run is null ? ApiProblems.NotFound($"No profile has the identity {@namespace}:{id}.") : TypedResults.Accepted($"/api/v1/jobs/{run.Id}", new { jobId = run.Id });
        }).RequireAuthorization(Policies.Engineer).WithName("DeleteProfile")
          .WithSummary("Privacy delete of a person (graph, profile store, events, lake files) -> 202 { jobId }");

        profiles.MapPost("/snapshot", async (HttpRequest request, ClaimsPrincipal user, ProfileSnapshots snapshots, CancellationToken ct) =>
        {
            string? policyId = null;
            if (request.ContentLength is > 0)
            {
                var (body, problem) = await ReadObjectAsync(request, ct);
                if (problem is not null) return problem;
                var errors = new Dictionary<string, string[]>();
                policyId = Str(body, "mergePolicyId", errors);
                if (errors.Count > 0) return ApiProblems.Validation(errors);
            }
            var run = await snapshots.RequestAsync(policyId, user.Actor(), ct);
            return run is null ? ApiProblems.NotFound($"No merge policy {policyId} in this sandbox.") : TypedResults.Accepted($"/api/v1/jobs/{run.Id}", new { jobId = run.Id });
        }).RequireAuthorization(Policies.Engineer).WithName("SnapshotProfiles")
          .WithSummary("Write the profile snapshot now ({ mergePolicyId } optional) -> 202 { jobId }");

        v1.MapPost("/datasets/{id}/reprocess-profile", async (string id, ClaimsPrincipal user, LakeCatalog lake, JobScheduler jobs, CancellationToken ct) =>
        {
            var dataset = await lake.FindAsync(id, ct) ?? throw CatalogException.NotFound($"No dataset {id} in this sandbox.");
            if (!dataset.ProfileEnabled) throw CatalogException.Rule($"The dataset '{dataset.Name}' is not enabled for profile.");
            var ids = new List<string>();
            foreach (var batch in ProfileStage.CommittedBatches(dataset))
                ids.Add((await jobs.EnqueueAsync(ProfileBatchJob.Kind, ProfileBatchJob.Target(dataset.Id, batch), user.Actor(), ct)).Id);
            return TypedResults.Accepted((string?)null, new { datasetId = dataset.Id, jobIds = ids });
        }).RequireAuthorization(Policies.Engineer).WithTags("Datasets").WithName("ReprocessDatasetProfile")
          .WithSummary("Run the identity and profile stages again for every committed batch (idempotent) -> 202 { jobIds }");

        var mergePolicies = v1.MapGroup("/merge-policies").WithTags("Merge policies");
        mergePolicies.MapGet("/", async (MergePolicyService service, CatalogDb db, CancellationToken ct) =>
            TypedResults.Ok(new Page<MergePolicyDto>((await service.ListAsync(db.Sandbox.Require(), ct)).Select(MergePolicyDto.From).ToList(), null)))
            .WithName("ListMergePolicies");

        mergePolicies.MapPost("/", async (HttpRequest request, MergePolicyService service, LakeCatalog lake, CatalogDb db, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var name = Str(body, "name", errors);
            var method = Str(body, "method", errors) ?? MergeMethods.Timestamp;
            List<string>? order = null;
            if (body.TryGetProperty("datasetOrder", out var o) && o.ValueKind != JsonValueKind.Null)
            {
                if (o.ValueKind != JsonValueKind.Array || o.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String)) errors["datasetOrder"] = ["datasetOrder must be an array of dataset ids."];
                else order = o.EnumerateArray().Select(e => e.GetString()!).ToList();
            }
            var isDefault = false;
            if (body.TryGetProperty("isDefault", out var d) && d.ValueKind != JsonValueKind.Null)
            {
                if (d.ValueKind is JsonValueKind.True or JsonValueKind.False) isDefault = d.GetBoolean();
                else errors["isDefault"] = ["isDefault must be true or false."];
            }
            if (string.IsNullOrWhiteSpace(name)) errors["name"] = ["A merge policy needs a name."];
            if (!MergeMethods.IsValid(method)) errors["method"] = ["method must be timestamp or dataset-precedence."];
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            if (method == MergeMethods.DatasetPrecedence && (order is null || order.Count == 0))
                return ApiProblems.Validation(new Dictionary<string, string[]> { ["datasetOrder"] = ["A dataset-precedence policy needs an ordered list of datasets."] }, status: 422);
            foreach (var ds in order ?? [])
                if (await lake.FindAsync(ds, ct) is null)
                    return ApiProblems.Validation(new Dictionary<string, string[]> { ["datasetOrder"] = [$"No dataset {ds} in this sandbox."] }, status: 422);
            try
            {
                var p = await service.CreateAsync(db.Sandbox.Require(), name!, method, order, isDefault, ct);
                return TypedResults.Created($"/api/v1/merge-policies/{p.Id}", MergePolicyDto.From(p));
            }
            catch (InvalidOperationException e) { return ApiProblems.Conflict(e.Message); }
            catch (ArgumentException e) { return ApiProblems.Unprocessable(e.Message); }
        }).RequireAuthorization(Policies.Engineer).WithName("CreateMergePolicy").WithSummary("{ name, method: timestamp | dataset-precedence, datasetOrder, isDefault }");
    }
}
