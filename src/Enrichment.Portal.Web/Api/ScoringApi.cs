using System.Security.Claims;
using System.Text.Json;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Web.Auth;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

/// <summary>API.md "Models": scoring runs, schedules and one-profile prediction.</summary>
public static class ScoringApi
{
    public static void MapScoringApi(this RouteGroupBuilder v1)
    {
        var models = v1.MapGroup("/models").WithTags("Scoring");

        models.MapPost("/{id}/score", async (string id, HttpRequest request, ClaimsPrincipal user, ScoringService service, CancellationToken ct) =>
        {
            ScoringTarget? target = null;
            if (request.ContentLength is not 0)
            {
                var (body, problem) = await ReadOptionalObjectAsync(request, ct);
                if (problem is not null) return problem;
                if (body is { } b)
                {
                    var errors = new Dictionary<string, string[]>();
                    target = ReadTarget(b, errors);
                    if (errors.Count > 0) return ApiProblems.Validation(errors);
                }
            }
            var run = await service.StartAsync(id, target, user.Actor(), ct);
            return TypedResults.Accepted($"/api/v1/scoring-runs/{run.Id}", new { runId = run.Id, jobId = run.JobRunId, status = run.Status });
        }).RequireAuthorization(Policies.Scientist).WithName("ScoreModel")
          .WithSummary("Start a scoring run { target: { datasetId } | { snapshot: true } } (default: the model's source); 202 { runId }, poll GET /scoring-runs/{runId}");

        models.MapGet("/{id}/scoring-runs", async (string id, int? limit, string? cursor, ScoringService service, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            var list = await service.ListRunsAsync(id, paging.Offset, paging.Limit, ct);
            return TypedResults.Ok(new Page<ScoringRunView>(list.Items, list.NextOffset is { } n ? Paging.Encode(n) : null));
        }).WithName("ListScoringRuns").WithSummary("Scoring runs of a model, newest first");

        models.MapGet("/{id}/schedule", async (string id, ScoringService service, CancellationToken ct) =>
            TypedResults.Ok(await service.GetScheduleAsync(id, ct))).WithName("GetModelSchedule").WithSummary("{ cron, retrain, nextRunAt }");

        models.MapPut("/{id}/schedule", async (string id, HttpRequest request, ClaimsPrincipal user, ScoringService service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            if (!body.TryGetProperty("cron", out var c)) errors["cron"] = ["cron is required: a cron expression such as \"0 3 * * *\" (UTC), or null to clear the schedule."];
            else if (c.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)) errors["cron"] = ["cron must be a string (or null to clear the schedule)."];
            var retrain = false;
            if (body.TryGetProperty("retrain", out var r) && r.ValueKind != JsonValueKind.Null)
            {
                if (r.ValueKind is JsonValueKind.True or JsonValueKind.False) retrain = r.GetBoolean();
                else errors["retrain"] = ["retrain must be true or false."];
            }
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            var cron = c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            return TypedResults.Ok(await service.SetScheduleAsync(id, cron, retrain, user.Actor(), ct));
        }).RequireAuthorization(Policies.Scientist).WithName("SetModelSchedule")
          .WithSummary("Recurring scoring { cron: \"0 3 * * *\" (UTC; 6 fields: seconds first), retrain: false }; { cron: null } clears it");

        models.MapDelete("/{id}/schedule", async (string id, ClaimsPrincipal user, ScoringService service, CancellationToken ct) =>
            TypedResults.Ok(await service.ClearScheduleAsync(id, user.Actor(), ct))).RequireAuthorization(Policies.Scientist)
          .WithName("ClearModelSchedule").WithSummary("Removes the recurring scoring");

        models.MapPost("/{id}/predict", async (string id, HttpRequest request, ScoringService service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var ns = Str(body, "namespace", errors);
            var identity = IdValue(body, errors);
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            return TypedResults.Ok(await service.PredictAsync(id, ns, identity, ct));
        }).RequireAuthorization(Policies.Scientist).WithName("PredictProfile")
          .WithSummary("Score one profile now { namespace, id } from its current attributes and events: { score | value | top | segment | engagement, modelVersion }");

        v1.MapGet("/scoring-runs/{runId}", async (string runId, ScoringService service, CancellationToken ct) =>
            TypedResults.Ok(await service.GetRunAsync(runId, ct))).WithTags("Scoring").WithName("GetScoringRun")
          .WithSummary("status, progress, stage, rowsScored, outputDatasetId, profilesUpdated, distribution, psi, driftWarning, error");
    }

    /// <summary><c>{ "target": { "datasetId": "..." } | { "snapshot": true } }</c>; a missing target means the model's source.</summary>
    internal static ScoringTarget? ReadTarget(JsonElement body, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty("target", out var t) || t.ValueKind == JsonValueKind.Null) return null;
        if (t.ValueKind != JsonValueKind.Object)
        {
            errors["target"] = ["target must be an object: { \"datasetId\": \"...\" } or { \"snapshot\": true }."];
            return null;
        }
        string? datasetId = null;
        if (t.TryGetProperty("datasetId", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            if (d.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(d.GetString())) datasetId = d.GetString();
            else errors["target.datasetId"] = ["target.datasetId must be a dataset id."];
        }
        var snapshot = false;
        if (t.TryGetProperty("snapshot", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind is JsonValueKind.True or JsonValueKind.False) snapshot = s.GetBoolean();
            else errors["target.snapshot"] = ["target.snapshot must be true or false."];
        }
        if (errors.Count > 0) return null;
        if (datasetId is not null && snapshot) { errors["target"] = ["Give either target.datasetId or target.snapshot = true, not both."]; return null; }
        if (datasetId is null && !snapshot) { errors["target"] = ["target needs { \"datasetId\": \"...\" } or { \"snapshot\": true }."]; return null; }
        return snapshot ? ScoringTarget.NewestSnapshot : ScoringTarget.Dataset(datasetId!);
    }

    private static string? IdValue(JsonElement body, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty("id", out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Number) return v.GetRawText();
        errors["id"] = ["id must be the identity value (a string)."];
        return null;
    }

    /// <summary>An optional JSON object body: empty is fine (null), anything else must be an object.</summary>
    private static async Task<(JsonElement? Body, IResult? Problem)> ReadOptionalObjectAsync(HttpRequest request, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(ct);
        if (string.IsNullOrWhiteSpace(text)) return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, ApiProblems.Validation("body", "The request body must be a JSON object."));
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException e) { return (null, ApiProblems.Validation("body", "The request body is not valid JSON: " + e.Message)); }
    }
}
