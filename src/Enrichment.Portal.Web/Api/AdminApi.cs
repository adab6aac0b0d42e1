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
public sealed record UpdateUserRequest(string? Role, bool? Disabled, string? Password, string? CurrentPassword);
/// <summary><c>sandbox</c>: the name of the sandbox to add the user to (default the caller's).</summary>
public sealed record AddMemberRequest(string? UserName, string? Role, string? Sandbox);
public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

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
            return TypedResults.Ok(new Page<SandboxDto>(list.Select(s => new SandboxDto(s.Id, s.Name, s.Title, s.CreatedAt)).ToList(), null));
        }).WithName("ListSandboxes");

        sandboxes.MapPost("/", async Task<IResult> (CreateSandboxRequest req, ClaimsPrincipal user, CatalogDb db, SandboxService service, CancellationToken ct) =>
        {
            if (!await IsPortalAdminAsync(user, db, ct))
                return TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "Only admins of sandbox prod create sandboxes.");
            try
            {
                var sandbox = await service.CreateAsync(req.Name, req.Title, user.UserId(), user.Actor(), ct);
                return TypedResults.Created($"/api/v1/sandboxes/{sandbox.Id}", new SandboxDto(sandbox.Id, sandbox.Name, sandbox.Title, sandbox.CreatedAt));
            }
            catch (ArgumentException) { return ApiProblems.Validation("name", SandboxService.NameRule); }
            catch (InvalidOperationException ex) { return ApiProblems.Conflict(ex.Message); }
        }).RequireAuthorization(Policies.Admin).WithName("CreateSandbox");

        var keys = v1.MapGroup("/api-keys").WithTags("Admin").RequireAuthorization(Policies.Admin);
        keys.MapGet("/", async (int? limit, string? cursor, CatalogDb db, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            return TypedResults.Ok(await paging.ApplyAsync(db.Set<ApiKey>().AsNoTracking().OrderByDescending(k => k.CreatedAt).ThenBy(k => k.Id), ApiKeyDto.From, ct));
        }).WithName("ListApiKeys");

        keys.MapPost("/", async Task<IResult> (CreateApiKeyRequest req, ClaimsPrincipal user, CatalogDb db, ApiKeyService service, CancellationToken ct) =>
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
            return TypedResults.Created($"/api/v1/api-keys/{created.Key.Id}",
                new CreatedApiKeyDto(created.Key.Id, created.Key.Name, created.Key.Role, created.Key.SandboxId, created.Secret, created.Key.CreatedAt));
        }).WithName("CreateApiKey").WithSummary("Create a key; its secret is in this answer only");

        keys.MapDelete("/{id}", async Task<IResult> (string id, ClaimsPrincipal user, ApiKeyService service, CatalogDb db, CancellationToken ct) =>
        {
            if (!await service.RevokeAsync(id, ct)) return ApiProblems.NotFound($"No API key {id} in this sandbox.");
            db.Add(new AuditEntry { Actor = user.Actor(), Action = "apikey.revoke", Target = id });
            await db.SaveChangesAsync(ct);
            return TypedResults.NoContent();
        }).WithName("RevokeApiKey");

        var users = v1.MapGroup("/users").WithTags("Admin");
        users.MapGet("/", async (UserAdministration admin, CancellationToken ct) =>
            TypedResults.Ok(new Page<UserDto>((await admin.MembersAsync(ct)).Select(ToDto).ToList(), null)))
            .RequireAuthorization(Policies.Admin).WithName("ListUsers").WithSummary("The members of this sandbox");

        users.MapPost("/", async (CreateUserRequest req, ClaimsPrincipal user, CatalogDb db, UserAdministration admin, CancellationToken ct) =>
                        {
                var created = await admin.CreateAsync(await ActorAsync(user, db, ct), req.UserName, req.DisplayName, req.Password, req.Role, ct);
                return TypedResults.Created($"/api/v1/users/{created.UserId}", ToDto(created));
            })
            .RequireAuthorization(Policies.Admin).WithName("CreateUser")
            .WithSummary("Create a new user with a role in this sandbox; an existing name is a 409 that tells nothing about that user");

        users.MapPost("/memberships", async (AddMemberRequest req, ClaimsPrincipal user, CatalogDb db, UserAdministration admin, CancellationToken ct) =>
                        {
                var added = await admin.AddExistingAsync(await ActorAsync(user, db, ct), req.UserName, req.Role, req.Sandbox, ct);
                return TypedResults.Created($"/api/v1/users/{added.UserId}", ToDto(added));
            })
            .RequireAuthorization(Policies.Admin).WithName("AddUserToSandbox")
            .WithSummary("Give an existing user a role in this sandbox (instance administrators only)");

        users.MapPatch("/{id}", async (string id, UpdateUserRequest req, ClaimsPrincipal user, CatalogDb db, UserAdministration admin, CancellationToken ct) =>
                            TypedResults.Ok(ToDto(await admin.UpdateAsync(await ActorAsync(user, db, ct), id, req.Role, req.Disabled, req.Password, req.CurrentPassword, ct))))
            .RequireAuthorization(Policies.Read).WithName("UpdateUser")
            .WithSummary("Change a member's role, disabled flag or password (admins); your own password with currentPassword");

        v1.MapPost("/account/password", async (ChangePasswordRequest req, ClaimsPrincipal user, CatalogDb db, UserAdministration admin, CancellationToken ct) =>
                        {
                await admin.ChangeOwnPasswordAsync(await ActorAsync(user, db, ct), req.CurrentPassword, req.NewPassword, ct);
                return TypedResults.NoContent();
            })
            .WithTags("Admin").WithName("ChangeOwnPassword").WithSummary("A signed-in user changes their own password with the current one");
    }

    /// <summary>The caller as <see cref="UserAdministration"/> sees them.</summary>
    public static async Task<UserActor> ActorAsync(ClaimsPrincipal user, CatalogDb db, CancellationToken ct) =>
        new(user.Actor(), user.FindFirstValue(PortalClaims.ApiKeyId) is null ? user.UserId() : null, user.PortalRole() ?? Roles.Viewer,
            user.SandboxId() ?? "", await IsPortalAdminAsync(user, db, ct));

    private static UserDto ToDto(SandboxMembership m) =>
        new(m.UserId, m.User!.UserName, m.User.DisplayName, m.Role, m.User.Disabled, m.User.CreatedAt, m.User.LastLoginAt);
}
