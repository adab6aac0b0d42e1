using System.Security.Claims;
using System.Text.Json;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Web.Auth;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

public sealed record NamespaceDto(string Code, string Name, IdentityType Type, NormalizerKind Normalizer, bool BuiltIn)
{
    public static NamespaceDto From(NamespaceInfo n) => new(n.Code, n.Name, n.Type, n.Normalizer, n.BuiltIn);
}

/// <summary>API.md "Identity namespaces", plus <c>GET/DELETE /identity-namespaces/{code}</c>.</summary>
public static class IdentityNamespacesApi
{
    public static void MapIdentityNamespacesApi(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/identity-namespaces").WithTags("Identity namespaces");

        group.MapGet("/", async (int? limit, string? cursor, IdentityNamespaceService service, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            var all = await service.ListAsync(ct);
            var items = all.Skip(paging.Offset).Take(paging.Limit).Select(NamespaceDto.From).ToList();
            var next = paging.Offset + paging.Limit < all.Count ? Paging.Encode(paging.Offset + paging.Limit) : null;
            return TypedResults.Ok(new Page<NamespaceDto>(items, next));
        }).WithName("ListIdentityNamespaces").WithSummary("Built-in and custom identity namespaces of the sandbox");

        group.MapGet("/{code}", async Task<IResult> (string code, IdentityNamespaceService service, CancellationToken ct) =>
            await service.FindAsync(code, ct) is { } ns ? TypedResults.Ok(NamespaceDto.From(ns)) : ApiProblems.NotFound($"No identity namespace '{code}' in this sandbox."))
            .WithName("GetIdentityNamespace");

        group.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, IdentityNamespaceService service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var code = Str(body, "code", errors);
            var name = Str(body, "name", errors);
            var type = Enum<IdentityType>(body, "type", "person, device, cookie, cross-device, non-people", errors);
            var normalizer = Enum<NormalizerKind>(body, "normalizer", "id, email, phone", errors);
            var description = Str(body, "description", errors);
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            var created = await service.CreateAsync(code, name ?? code, type, normalizer, description, user.Actor(), ct);
            return TypedResults.Created($"/api/v1/identity-namespaces/{created.Code}", NamespaceDto.From(created));
        }).RequireAuthorization(Policies.Engineer).WithName("CreateIdentityNamespace")
          .WithSummary("Create a custom namespace { code, name, type[, normalizer] }");

        group.MapDelete("/{code}", async (string code, ClaimsPrincipal user, IdentityNamespaceService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(code, user.Actor(), ct);
            return TypedResults.NoContent();
        }).RequireAuthorization(Policies.Engineer).WithName("DeleteIdentityNamespace")
          .WithSummary("Delete a custom namespace; 409 while a schema uses it");
    }

    private static T? Enum<T>(JsonElement body, string name, string allowed, Dictionary<string, string[]> errors) where T : struct, Enum
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        try { return v.Deserialize<T>(); }
        catch (JsonException) { errors[name] = [$"{name} must be one of {allowed}."]; return null; }
    }
}
