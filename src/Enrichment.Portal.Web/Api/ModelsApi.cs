using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Web.Auth;
using Microsoft.EntityFrameworkCore;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

/// <summary>API.md "Models": models, training runs, versions (activate, compare).</summary>
public static class ModelsApi
{
    public static void MapModelsApi(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/models").WithTags("Models");

        group.MapGet("/", async (string? search, string? recipe, int? limit, string? cursor, ModelService service, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            var q = service.Query();
            if (!string.IsNullOrWhiteSpace(recipe)) q = q.Where(m => m.Recipe == recipe);
            if (!string.IsNullOrWhiteSpace(search)) { var term = search.Trim().ToLower(); q = q.Where(m => m.Name.ToLower().Contains(term)); }
            var page = await paging.ApplyAsync(q.OrderBy(m => m.Name).ThenBy(m => m.Id), m => ModelView.From(m), ct);
            return TypedResults.Ok(page);
        }).WithName("ListModels").WithSummary("Models of the sandbox (?search, ?recipe)");

        group.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, ModelService service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var definition = ReadDefinition(body, errors);
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            var m = await service.CreateAsync(definition, user.Actor(), ct);
            return TypedResults.Created($"/api/v1/models/{m.Id}", ModelView.From(m));
        }).RequireAuthorization(Policies.Scientist).WithName("CreateModel")
          .WithSummary("Create a model { name, recipe, source: { datasetId } | { snapshot: true }, label: { field, positive }, features, excludeFeatures, parameters }");

        group.MapGet("/{id}", async (string id, ModelService service, CancellationToken ct) =>
            TypedResults.Ok(await service.ViewAsync(id, ct))).WithName("GetModel").WithSummary("A model with its versions (newest first) and latest training run");

        group.MapPost("/{id}/train", async (string id, ClaimsPrincipal user, ModelService service, CancellationToken ct) =>
        {
            var run = await service.TrainAsync(id, user.Actor(), ct);
            return TypedResults.Accepted($"/api/v1/training-runs/{run.Id}", new { runId = run.Id, jobId = run.JobRunId, status = run.Status });
        }).RequireAuthorization(Policies.Scientist).WithName("TrainModel").WithSummary("Start a training run (202 { runId }); poll GET /training-runs/{runId}");

        group.MapGet("/{id}/runs", async (string id, int? limit, string? cursor, ModelService service, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            await service.GetAsync(id, ct);
            var runs = await service.RunsQuery(id).ToListAsync(ct);
            var ordered = runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip(paging.Offset).Take(paging.Limit + 1).ToList();
            return TypedResults.Ok(new Page<TrainingRunView>(ordered.Take(paging.Limit).Select(TrainingRunView.From).ToList(),
                ordered.Count > paging.Limit ? Paging.Encode(paging.Offset + paging.Limit) : null));
        }).WithName("ListTrainingRuns").WithSummary("Training runs of a model, newest first");

        group.MapGet("/{id}/versions/compare", async (string id, string? a, string? b, ModelService service, CancellationToken ct) =>
            TypedResults.Ok(await service.CompareAsync(id, a, b, ct))).WithName("CompareModelVersions").WithSummary("Two versions side by side (?a=&b=)");

        group.MapGet("/{id}/versions/{versionId}", async (string id, string versionId, ModelService service, CancellationToken ct) =>
            TypedResults.Ok(await service.GetVersionAsync(id, versionId, ct))).WithName("GetModelVersion");

        group.MapPost("/{id}/versions/{versionId}/activate", async (string id, string versionId, ClaimsPrincipal user, ModelService service, CancellationToken ct) =>
        {
            await service.ActivateAsync(id, versionId, user.Actor(), ct);
            return TypedResults.Ok(await service.ViewAsync(id, ct));
        }).RequireAuthorization(Policies.Scientist).WithName("ActivateModelVersion").WithSummary("Make a version the one scoring uses");

        group.MapPut("/{id}/versions/{versionId}/threshold", async (string id, string versionId, ThresholdBody? body, ClaimsPrincipal user, ModelService service, CancellationToken ct) =>
        {
            if (body?.Threshold is not { } t)
                return Results.Problem(statusCode: 400, title: "threshold is required", detail: "Give { \"threshold\": 0.35 } (between 0 and 1).",
                    extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["threshold"] = ["threshold is required."] } });
            return Results.Ok(await service.SetThresholdAsync(id, versionId, t, user.Actor(), ct));
        }).RequireAuthorization(Policies.Scientist).WithName("SetModelVersionThreshold")
          .WithSummary("Set a propensity/churn version's operating threshold { threshold }: F1, precision, recall, accuracy, confusion and grade are recomputed on its held-out rows");

        v1.MapGet("/training-runs/{runId}", async (string runId, ModelService service, CancellationToken ct) =>
            TypedResults.Ok(await service.GetRunAsync(runId, ct))).WithTags("Models").WithName("GetTrainingRun")
          .WithSummary("status, progress, metrics, fittedParameters, baseline, grade, featureImportance, versionId, charts, log, error");

        v1.MapGet("/recipes", () => TypedResults.Ok(new { items = RecipeCatalog.All })).WithTags("Models").WithName("ListRecipes")
          .WithSummary("The recipes with a plain explanation and their parameters");
    }

    /// <summary>Reads the API.md body of <c>POST /models</c>; type errors go to <paramref name="errors"/> (400).</summary>
    internal static ModelDefinition ReadDefinition(JsonElement body, Dictionary<string, string[]> errors)
    {
        string? datasetId = null;
        var snapshot = false;
        if (body.TryGetProperty("source", out var source) && source.ValueKind != JsonValueKind.Null)
        {
            if (source.ValueKind != JsonValueKind.Object) errors["source"] = ["source must be an object: { \"datasetId\": \"...\" } or { \"snapshot\": true }."];
            else
            {
                datasetId = Str(source, "datasetId", errors);
                if (errors.Remove("datasetId")) errors["source.datasetId"] = ["source.datasetId must be a string."];
                if (source.TryGetProperty("snapshot", out var s) && s.ValueKind != JsonValueKind.Null)
                {
                    if (s.ValueKind is JsonValueKind.True or JsonValueKind.False) snapshot = s.GetBoolean();
                    else errors["source.snapshot"] = ["source.snapshot must be true or false."];
                }
            }
        }
        LabelSpec? label = null;
        if (body.TryGetProperty("label", out var l) && l.ValueKind != JsonValueKind.Null)
        {
            if (l.ValueKind != JsonValueKind.Object) errors["label"] = ["label must be an object { \"field\": \"...\", \"positive\": \"...\" }."];
            else
            {
                var field = l.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                if (field is null) errors["label.field"] = ["label.field must be the name of a column."];
                string? positive = null;
                if (l.TryGetProperty("positive", out var p))
                {
                    positive = p.ValueKind switch
                    {
                        JsonValueKind.String => p.GetString(),
                        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.GetRawText(),
                        JsonValueKind.Null => null,
                        _ => null,
                    };
                    if (p.ValueKind is JsonValueKind.Object or JsonValueKind.Array) errors["label.positive"] = ["label.positive must be a value (text, number or boolean)."];
                }
                if (field is not null) label = new LabelSpec(field, positive);
            }
        }
        JsonObject? parameters = null;
        if (body.TryGetProperty("parameters", out var par) && par.ValueKind != JsonValueKind.Null)
        {
            if (par.ValueKind != JsonValueKind.Object) errors["parameters"] = ["parameters must be an object."];
            else parameters = JsonNode.Parse(par.GetRawText()) as JsonObject;
        }
        int? seed = null;
        if (body.TryGetProperty("seed", out var sd) && sd.ValueKind != JsonValueKind.Null)
        {
            if (sd.ValueKind == JsonValueKind.Number && sd.TryGetInt32(out var v)) seed = v;
            else errors["seed"] = ["seed must be a whole number."];
        }
        return new ModelDefinition
        {
            Name = Str(body, "name", errors), Recipe = Str(body, "recipe", errors), Description = Str(body, "description", errors),
            SourceDatasetId = datasetId, SourceSnapshot = snapshot, Label = label,
            Features = StrList(body, "features", errors), ExcludeFeatures = StrList(body, "excludeFeatures", errors),
            Parameters = parameters, Seed = seed,
        };
    }

    private static List<string>? StrList(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            errors[name] = [$"{name} must be an array of field names."];
            return null;
        }
        return v.EnumerateArray().Select(x => x.GetString()!).ToList();
    }
}

/// <summary>Body of <c>PUT /models/{id}/versions/{versionId}/threshold</c>.</summary>
public sealed record ThresholdBody(double? Threshold);
