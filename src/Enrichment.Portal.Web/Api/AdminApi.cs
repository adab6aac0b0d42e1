using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Auth;
using Microsoft.EntityFrameworkCore;
using System.Security.Claims;

namespace Enrichment.Portal.Web.Api;

public sealed record SandboxDto(string Id, string Name, string Title, DateTimeOffset CreatedAt);
public sealed record CreateSandboxRequest(string? Name, string? Title);
public sealed record ApiKeyDto(string Id, string Name, string Role, string Prefix, string SandboxId, string? CreatedBy,
    DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static ApiKeyDto From(ApiKey k) => new(k.Id, k.Name, k.Role, k.Prefix, k.SandboxId, k.CreatedBy, k.CreatedAt, k.LastUsedAt, k.RevokedAt);
}
/// <summary><c>sandbox</c> (a name) creates the key in another sandbox: only for admins of <c>prod</c>.</summary>
public sealed record CreateApiKeyRequest(string? Name, string? Role, string? Sandbox);
public sealed record CreatedApiKeyDto(string Id, string Name, string Role, string SandboxId, string Key, DateTimeOffset CreatedAt);
public sealed record UserDto(string Id, string UserName, string DisplayName, string Role, bool Disabled, DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt);
public sealed record CreateUserRequest(string? UserName, string? DisplayName, string? Password, string? Role);
public sealed record UpdateUserRequest(string? Role, bool? Disabled, string? Password);

/// <summary>Sandboxes, API keys and users. Admins of sandbox <c>prod</c> administer the whole portal.</summary>
public static class AdminApi
{
    public static Task<bool> IsPortalAdminAsync(ClaimsPrincipal user, CatalogDb db, CancellationToken ct) =>
        SandboxService.IsPortalAdminAsync(db, user.PortalRole(), user.SandboxId(), ct);

    public static void MapAdminApi(this RouteGroupBuilder v1)
    {
        var sandboxes = v1.MapGroup("/sandboxes").WithTags("Admin");
        sandboxes.MapGet("/", async (ClaimsPrincipal user, CatalogDb db, CancellationToken ct) =>
        {
            var all = await IsPortalAdminAsync(user, db, ct);
            var id = user.SandboxId();
            var list = await db.Set<Sandbox>().AsNoTracking().Where(s => all || s.Id == id).OrderBy(s => s.Name).ToListAsync(ct);
            return Results.Ok(new Page<SandboxDto>(list.Select(s => new SandboxDto(s.Id, s.Name, s.Title, s.CreatedAt)).ToList(), null));
        }).WithName("ListSandboxes");

        sandboxes.MapPost("/", async (CreateSandboxRequest req, ClaimsPrincipal user, CatalogDb db, SandboxService service, CancellationToken ct) =>
        {
            if (!await IsPortalAdminAsync(user, db, ct))
                return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "Only admins of sandbox prod create sandboxes.");
            try
            {
                var sandbox = await service.CreateAsync(req.Name, req.Title, user.UserId(), user.Actor(), ct);
                return Results.Created($"/api/v1/sandboxes/{sandbox.Id}", new SandboxDto(sandbox.Id, sandbox.Name, sandbox.Title, sandbox.CreatedAt));
            }
            catch (ArgumentException) { return ApiProblems.Validation("name", SandboxService.NameRule); }
            catch (InvalidOperationException ex) { return ApiProblems.Conflict(ex.Message); }
        }).RequireAuthorization(Policies.Admin).WithName("CreateSandbox");

        var keys = v1.MapGroup("/api-keys").WithTags("Admin").RequireAuthorization(Policies.Admin);
        keys.MapGet("/", async (int? limit, string? cursor, CatalogDb db, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            return Results.Ok(await paging.ApplyAsync(db.Set<ApiKey>().AsNoTracking().OrderByDescending(k => k.CreatedAt).ThenBy(k => k.Id), ApiKeyDto.From, ct));
        }).WithName("ListApiKeys");

        keys.MapPost("/", async (CreateApiKeyRequest req, ClaimsPrincipal user, CatalogDb db, ApiKeyService service, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(req.Name) || req.Name.Length > 200) errors["name"] = ["A key needs a name of at most 200 characters."];
            if (!Roles.IsValid(req.Role)) errors["role"] = [$"role must be one of {string.Join(", ", Roles.All)}."];
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            string? sandboxId = null;
            if (!string.IsNullOrEmpty(req.Sandbox))
            {
                var target = await db.Set<Sandbox>().FirstOrDefaultAsync(s => s.Name == req.Sandbox, ct);
                if (target is null) return ApiProblems.Validation("sandbox", $"No sandbox named '{req.Sandbox}'.");
                if (target.Id != user.SandboxId())
                {
                    if (!await IsPortalAdminAsync(user, db, ct))
                        return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "Only admins of sandbox prod create keys in other sandboxes.");
                    sandboxId = target.Id;
                    db.Sandbox.SandboxId = null; // system write into the target sandbox, checked above
                }
            }
            var created = await service.CreateAsync(req.Name!, req.Role!, user.Actor(), sandboxId: sandboxId, ct: ct);
            db.Sandbox.SandboxId = user.SandboxId();
            db.Add(new AuditEntry { Actor = user.Actor(), Action = "apikey.create", Target = created.Key.Id, Detail = $"role {created.Key.Role}" });
            await db.SaveChangesAsync(ct);
            return Results.Created($"/api/v1/api-keys/{created.Key.Id}",
                new CreatedApiKeyDto(created.Key.Id, created.Key.Name, created.Key.Role, created.Key.SandboxId, created.Secret, created.Key.CreatedAt));
        }).WithName("CreateApiKey").WithSummary("Create a key; its secret is in this answer only");

        keys.MapDelete("/{id}", async (string id, ClaimsPrincipal user, ApiKeyService service, CatalogDb db, CancellationToken ct) =>
        {
            if (!await service.RevokeAsync(id, ct)) return ApiProblems.NotFound($"No API key {id} in this sandbox.");
            db.Add(new AuditEntry { Actor = user.Actor(), Action = "apikey.revoke", Target = id });
            await db.SaveChangesAsync(ct);
            return Results.NoContent();
        }).WithName("RevokeApiKey");

        var users = v1.MapGroup("/users").WithTags("Admin").RequireAuthorization(Policies.Admin);
        users.MapGet("/", async (CatalogDb db, CancellationToken ct) =>
        {
            var rows = await db.Set<SandboxMembership>().AsNoTracking().Include(m => m.User).OrderBy(m => m.User!.UserName).ToListAsync(ct);
            return Results.Ok(new Page<UserDto>(rows.Select(ToDto).ToList(), null));
        }).WithName("ListUsers");

        users.MapPost("/", async (CreateUserRequest req, ClaimsPrincipal user, CatalogDb db, UserService service, CancellationToken ct) =>
        {
            if (!Roles.IsValid(req.Role)) return ApiProblems.Validation("role", $"role must be one of {string.Join(", ", Roles.All)}.");
            var sandboxId = user.SandboxId()!;
            var name = req.UserName?.Trim().ToLowerInvariant() ?? "";
            var existing = await db.Set<AppUser>().Include(u => u.Memberships).FirstOrDefaultAsync(u => u.UserName == name, ct);
            if (existing is not null)
            {
                if (existing.Memberships.Any(m => m.SandboxId == sandboxId)) return ApiProblems.Conflict($"User '{name}' is already a member of this sandbox.");
                var m = new SandboxMembership { UserId = existing.Id, SandboxId = sandboxId, Role = req.Role! };
                db.Add(m);
                await db.SaveChangesAsync(ct);
                m.User = existing;
                return Results.Created($"/api/v1/users/{existing.Id}", ToDto(m));
            }
            try
            {
                var created = await service.CreateAsync(name, req.DisplayName ?? name, req.Password ?? "", sandboxId, req.Role!, ct);
                db.Add(new AuditEntry { Actor = user.Actor(), Action = "user.create", Target = created.UserName, Detail = $"role {req.Role}" });
                await db.SaveChangesAsync(ct);
                return Results.Created($"/api/v1/users/{created.Id}", ToDto(created.Memberships[0]));
            }
            catch (ArgumentException ex)
            {
                return ApiProblems.Validation(ex.ParamName ?? "user", ex.Message.Split(" (Parameter")[0]);
            }
        }).WithName("CreateUser");

        users.MapPatch("/{id}", async (string id, UpdateUserRequest req, ClaimsPrincipal user, CatalogDb db, UserService service, CancellationToken ct) =>
        {
            var m = await db.Set<SandboxMembership>().Include(x => x.User).FirstOrDefaultAsync(x => x.UserId == id, ct);
            if (m is null) return ApiProblems.NotFound($"No user {id} in this sandbox.");
            if (req.Role is not null)
            {
                if (!Roles.IsValid(req.Role)) return ApiProblems.Validation("role", $"role must be one of {string.Join(", ", Roles.All)}.");
                m.Role = req.Role;
            }
            if (req.Disabled is { } disabled)
            {
                if (disabled && id == user.UserId()) return ApiProblems.Unprocessable("You cannot disable yourself.");
                m.User!.Disabled = disabled;
            }
            if (req.Password is not null)
            {
                if (UserService.CheckPassword(req.Password) is { } problem) return ApiProblems.Validation("password", problem);
                await service.SetPasswordAsync(m.User!, req.Password, ct);
            }
            db.Add(new AuditEntry { Actor = user.Actor(), Action = "user.update", Target = m.User!.UserName });
            await db.SaveChangesAsync(ct);
            return Results.Ok(ToDto(m));
        }).WithName("UpdateUser");
    }

    private static UserDto ToDto(SandboxMembership m) =>
        new(m.UserId, m.User!.UserName, m.User.DisplayName, m.Role, m.User.Disabled, m.User.CreatedAt, m.User.LastLoginAt);
}
