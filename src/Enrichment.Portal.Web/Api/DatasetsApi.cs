using System.Security.Claims;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Auth;
using Microsoft.EntityFrameworkCore;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

public sealed record DatasetDto(string Id, string Name, string SchemaId, string? SchemaName, SchemaClass? SchemaClass, string? Description,
    bool ProfileEnabled, bool System, long RecordCount, int BatchCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ProfileEnabledAt)
{
    /// <summary>Soft guardrails the creation crossed (only on the 201 of a create; omitted elsewhere).</summary>
    [global::System.Text.Json.Serialization.JsonIgnore(Condition = global::System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }

    public static DatasetDto From(Dataset d, Schema? s) => new(d.Id, d.Name, d.SchemaId, s?.Name, s?.Class, d.Description,
        d.ProfileEnabled, d.System, d.RecordCount, d.BatchCount, d.CreatedAt, d.UpdatedAt, d.ProfileEnabledAt);
}

/// <summary>API.md "Datasets".</summary>
public static class DatasetsApi
{
    public static void MapDatasetsApi(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/datasets").WithTags("Datasets");

        group.MapGet("/", async (string? search, string? schemaId, bool? profileEnabled, bool? system, int? limit, string? cursor,
            DatasetService service, SchemaService schemas, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            var q = service.Query();
            if (!string.IsNullOrWhiteSpace(schemaId)) q = q.Where(d => d.SchemaId == schemaId);
            if (profileEnabled is { } p) q = q.Where(d => d.ProfileEnabled == p);
            if (system is { } sys) q = q.Where(d => d.System == sys);
            if (!string.IsNullOrWhiteSpace(search)) { var term = search.Trim().ToLower(); q = q.Where(d => d.Name.ToLower().Contains(term)); }
            var page = await paging.ApplyAsync(q.OrderBy(d => d.Name).ThenBy(d => d.Id), d => d, ct);
            var ids = page.Items.Select(d => d.SchemaId).Distinct().ToList();
            var byId = await schemas.Query().Where(s => ids.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
            return TypedResults.Ok(new Page<DatasetDto>(page.Items.Select(d => DatasetDto.From(d, byId.GetValueOrDefault(d.SchemaId))).ToList(), page.NextCursor));
        }).WithName("ListDatasets").WithSummary("Datasets of the sandbox with record and batch counts (?search, ?schemaId, ?profileEnabled, ?system)");

        group.MapGet("/{id}", async (string id, DatasetService service, SchemaService schemas, CancellationToken ct) =>
        {
            var d = await service.GetAsync(id, ct);
            return TypedResults.Ok(DatasetDto.From(d, await schemas.FindAsync(d.SchemaId, ct)));
        }).WithName("GetDataset");

        group.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, DatasetService service, SchemaService schemas, Enrichment.Portal.Core.Guardrails.GuardrailService guardrails,
            CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var name = Str(body, "name", errors);
            var schemaId = Str(body, "schemaId", errors);
            var description = Str(body, "description", errors);
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            var d = await service.CreateAsync(name, schemaId, description, user.Actor(), ct);
            var warnings = await guardrails.DatasetWarningsAsync(d.SchemaId, ct);
            return TypedResults.Created($"/api/v1/datasets/{d.Id}", DatasetDto.From(d, await schemas.FindAsync(d.SchemaId, ct)) with { Warnings = warnings });
        }).RequireAuthorization(Policies.Engineer).WithName("CreateDataset")
          .WithSummary("Create a dataset { name, schemaId[, description] } -> 201 with warnings: [] (soft guardrails crossed, e.g. more than 20 profile datasets)");

        group.MapDelete("/{id}", async (string id, ClaimsPrincipal user, DatasetService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(id, user.Actor(), ct);
            return TypedResults.Accepted((string?)null, new { id, status = "deleted" });
        }).RequireAuthorization(Policies.Engineer).WithName("DeleteDataset")
          .WithSummary("Delete a dataset with its lake files and profile fragments (202); system datasets: 409");

        group.MapPost("/{id}/enable-profile", async (string id, ClaimsPrincipal user, DatasetService service, SchemaService schemas, CancellationToken ct) =>
        {
            var d = await service.EnableProfileAsync(id, user.Actor(), ct: ct);
            return TypedResults.Ok(DatasetDto.From(d, await schemas.FindAsync(d.SchemaId, ct)));
        }).RequireAuthorization(Policies.Engineer).WithName("EnableDatasetForProfile")
          .WithSummary("One-way; 422 when its schema is not enabled for profile");
    }
}
