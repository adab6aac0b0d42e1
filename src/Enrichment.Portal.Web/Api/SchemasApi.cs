using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Schemas.Xdm;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

public sealed record SchemaDto(string Id, string Name, SchemaClass Class, string? Description, IReadOnlyList<JsonElement> Fields,
    bool ProfileEnabled, int Version, int FieldCount, string? PrimaryIdentity, IReadOnlyList<string> ProfileBlockers,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ProfileEnabledAt)
{
    public static SchemaDto From(Schema s)
    {
        var definition = s.ToDefinition();
        return new(s.Id, s.Name, s.Class, s.Description, definition.Fields.Select(SchemaDefinitionJson.ToElement).ToList(),
            s.ProfileEnabled, s.Version, s.FieldCount, s.PrimaryIdentityPath,
            s.ProfileEnabled ? [] : SchemaRules.ProfileBlockers(definition), s.CreatedAt, s.UpdatedAt, s.ProfileEnabledAt);
    }
}

/// <summary>API.md "Schemas", plus XDM import and JSON Schema export.</summary>
public static class SchemasApi
{
    public static void MapSchemasApi(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/schemas").WithTags("Schemas");

        group.MapGet("/", async (string? search, string? @class, bool? profileEnabled, int? limit, string? cursor, SchemaService service, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            var q = service.Query();
            if (!string.IsNullOrWhiteSpace(@class))
            {
                if (ParseClass(@class) is not { } c) return ApiProblems.Validation("class", "class must be profile or event.");
                q = q.Where(s => s.Class == c);
            }
            if (profileEnabled is { } p) q = q.Where(s => s.ProfileEnabled == p);
            if (!string.IsNullOrWhiteSpace(search)) { var term = search.Trim().ToLower(); q = q.Where(s => s.Name.ToLower().Contains(term)); }
            return TypedResults.Ok(await paging.ApplyAsync(q.OrderBy(s => s.Name).ThenBy(s => s.Id), SchemaDto.From, ct));
        }).WithName("ListSchemas").WithSummary("Schemas of the sandbox by name (?search, ?class, ?profileEnabled)");

        group.MapGet("/{id}", async (string id, SchemaService service, CancellationToken ct) =>
            TypedResults.Ok(SchemaDto.From(await service.GetAsync(id, ct)))).WithName("GetSchema");

        group.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, SchemaService service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var name = Str(body, "name", errors);
            var classText = Str(body, "class", errors);
            var description = Str(body, "description", errors);
            var fields = Fields(body, "fields", errors) ?? (errors.ContainsKey("fields") ? null : []);
            SchemaClass? cls = null;
            if (classText is null) { if (!errors.ContainsKey("class")) errors["class"] = ["class is required: profile or event."]; }
            else if (ParseClass(classText) is { } c) cls = c;
            else errors["class"] = ["class must be profile or event."];
            if (string.IsNullOrWhiteSpace(name) && !errors.ContainsKey("name")) errors["name"] = ["A schema needs a name."];
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            var schema = await service.CreateAsync(new SchemaDraft(name, cls, fields, description), user.Actor(), ct);
            return TypedResults.Created($"/api/v1/schemas/{schema.Id}", SchemaDto.From(schema));
        }).RequireAuthorization(Policies.Engineer).WithName("CreateSchema")
          .WithSummary("Create a schema { name, class, fields[, description] }; event schemas get timestamp and eventType");

        group.MapPatch("/{id}", async (string id, HttpRequest request, ClaimsPrincipal user, SchemaService service, CancellationToken ct) =>
        {
            await service.GetAsync(id, ct); // 404 before 400 for another sandbox's id
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var add = Fields(body, "addFields", errors);
            var replace = Fields(body, "fields", errors);
            var hasDescription = body.TryGetProperty("description", out _);
            var description = Str(body, "description", errors);
            int? expected = body.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;
            if (add is null && replace is null && !hasDescription && errors.Count == 0)
                errors["addFields"] = ["Send addFields (new fields), fields (the whole new list) or description."];
            if (add is not null && replace is not null) errors["fields"] = ["Send either addFields or fields, not both."];
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            Schema schema = null!;
            if (add is not null) schema = await service.AddFieldsAsync(id, add, user.Actor(), ct);
            if (replace is not null) schema = await service.ReplaceFieldsAsync(id, replace, expected, user.Actor(), ct);
            if (hasDescription) schema = await service.UpdateDescriptionAsync(id, description, user.Actor(), ct);
            return TypedResults.Ok(SchemaDto.From(schema));
        }).RequireAuthorization(Policies.Engineer).WithName("UpdateSchema")
          .WithSummary("{ addFields: [...] } adds fields (version + 1); profile-enabled schemas take additive changes only (409)");

        group.MapPost("/{id}/enable-profile", async (string id, ClaimsPrincipal user, SchemaService service, CancellationToken ct) =>
            TypedResults.Ok(SchemaDto.From(await service.EnableProfileAsync(id, user.Actor(), ct))))
            .RequireAuthorization(Policies.Engineer).WithName("EnableSchemaForProfile")
            .WithSummary("One-way; 422 with the reason when there is no primary identity");

        group.MapPost("/import-xdm", async Task<IResult> (HttpRequest request, ClaimsPrincipal user, SchemaService service, IOptions<JsonOptions> json, CancellationToken ct) =>
        {
            if (!request.HasFormContentType) return ApiProblems.Validation("file", "Send multipart/form-data with a file (.zip of the schema and its components, or one .json schema).");
            var form = await request.ReadFormAsync(ct);
            var file = form.Files.GetFile("file") ?? form.Files.FirstOrDefault();
            if (file is null || file.Length == 0) return ApiProblems.Validation("file", "A file is required: a .zip of the schema and its components, or one .json schema.");
            if (file.Length > XdmSource.MaxTotalBytes) return ApiProblems.TooLarge($"The file is larger than {XdmSource.MaxTotalBytes / 1024 / 1024} MB.");
            var entry = form["entry"].FirstOrDefault();
            XdmSource source;
            try
            {
                await using var stream = file.OpenReadStream();
                if (file.FileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                {
                    using var buffer = new MemoryStream();
                    await stream.CopyToAsync(buffer, ct);
                    buffer.Position = 0;
                    source = XdmSource.FromZip(buffer, string.IsNullOrWhiteSpace(entry) ? null : entry);
                }
                else if (file.FileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                {
                    using var reader = new StreamReader(stream, Encoding.UTF8);
                    source = XdmSource.FromJson(await reader.ReadToEndAsync(ct), Path.GetFileName(file.FileName));
                }
                else return ApiProblems.Validation("file", "The file must be a .zip or a .json.");
            }
            catch (XdmSourceException e) { return ApiProblems.Validation("file", e.Message); }
            var imported = await service.ImportXdmAsync(source, form["name"].FirstOrDefault(), form["description"].FirstOrDefault(), user.Actor(), ct);
            var answer = JsonSerializer.SerializeToNode(SchemaDto.From(imported.Schema), json.Value.SerializerOptions)!.AsObject();
            answer["warnings"] = new JsonArray([.. imported.Warnings.Select(w => (JsonNode)JsonValue.Create(w))]);
            return TypedResults.Json(answer, statusCode: 201);
        }).RequireAuthorization(Policies.Engineer).DisableAntiforgery().WithName("ImportXdmSchema")
          .WithSummary("multipart: file (.zip or .json), optional entry (path in the zip), name, description -> 201 schema + warnings");

        group.MapGet("/{id}/export", async (string id, bool? download, HttpContext http, SchemaService service, CancellationToken ct) =>
        {
            var doc = await service.ExportAsync(id, $"{http.Request.Scheme}://{http.Request.Host}", ct);
            if (download == true)
            {
                var file = string.Concat((doc["title"]?.GetValue<string>() ?? id).Select(ch => char.IsLetterOrDigit(ch) ? ch : '-')) + ".schema.json";
                http.Response.Headers.ContentDisposition = $"attachment; filename=\"{file}\"";
            }
            return Results.Text(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), "application/schema+json", Encoding.UTF8);
        }).WithName("ExportSchema").WithSummary("The schema as a JSON Schema (draft 2020-12) document; ?download=true for a file");
    }

    public static SchemaClass? ParseClass(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "profile" => SchemaClass.Profile,
        "event" => SchemaClass.Event,
        _ => null,
    };
}
