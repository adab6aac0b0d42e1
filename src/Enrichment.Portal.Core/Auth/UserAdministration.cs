using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Auth;

/// <summary>
/// Who asks for a user change: a signed-in user (<see cref="UserId"/> set) or an API key, with their role in the current
/// sandbox. <see cref="InstanceAdmin"/>: an admin of sandbox <c>prod</c> (the bootstrap <c>admin</c> holds it), the role above
/// a sandbox admin that administers the whole portal.
/// </summary>
public sealed record UserActor(string Name, string? UserId, string Role, string SandboxId, bool InstanceAdmin);

/// <summary>
/// The rules of user administration, for the API and the admin page alike. Users are global (one name, one password),
/// their roles are per sandbox; a sandbox admin manages only their own sandbox:
/// <list type="bullet">
/// <item>creating a user whose name exists is a conflict that tells nothing about that user;</item>
/// <item>adding an existing user to a sandbox needs an instance admin;</item>
/// <item>a user's password or disabled flag can be changed by a sandbox admin only when the user belongs to no other
/// sandbox (otherwise by an instance admin); a user changes their own password with the old one;</item>
/// <item>every change is written to the audit log (never a password).</item>
/// </list>
/// Refusals are <see cref="CatalogException"/>s (<see cref="CatalogErrorKind.Forbidden"/> for what the caller may not do).
/// </summary>
public sealed class UserAdministration(CatalogDb db, UserService users)
{
    public const string NameTaken = "A user with this name exists already. An instance administrator (an admin of sandbox prod) can add an existing user to this sandbox.";

    /// <summary>The members of the current sandbox, by user name.</summary>
    public Task<List<SandboxMembership>> MembersAsync(CancellationToken ct = default) =>
        db.Set<SandboxMembership>().AsNoTracking().Include(m => m.User).OrderBy(m => m.User!.UserName).ToListAsync(ct);

    /// <summary>Creates a new user with a role in the actor's sandbox.</summary>
    public async Task<SandboxMembership> CreateAsync(UserActor actor, string? userName, string? displayName, string? password, string? role, CancellationToken ct = default)
    {
        RequireAdmin(actor);
        CheckRole(role);
        var name = userName?.Trim().ToLowerInvariant() ?? "";
        if (await db.Set<AppUser>().AnyAsync(u => u.UserName == name, ct))
        {
            Audit(actor, "user.create.refused", name, "name exists");
            await db.SaveChangesAsync(ct);
            throw CatalogException.Conflict(NameTaken);
        }
        AppUser created;
        try { created = await users.CreateAsync(name, displayName ?? name, password ?? "", actor.SandboxId, role!, ct); }
        catch (ArgumentException ex) { throw CatalogException.Invalid(ex.ParamName ?? "user", ex.Message.Split(" (Parameter")[0]); }
        catch (InvalidOperationException) { throw CatalogException.Conflict(NameTaken); }
        Audit(actor, "user.create", created.UserName, $"role {role}");
        await db.SaveChangesAsync(ct);
        return created.Memberships[0];
    }

    /// <summary>
    /// Gives an existing user a role in a sandbox (by name; default the actor's): instance admins only. The answer tells
    /// only that it was done, so it leaks nothing to an instance admin that they could not list anyway.
    /// </summary>
    public async Task<SandboxMembership> AddExistingAsync(UserActor actor, string? userName, string? role, string? sandboxName = null, CancellationToken ct = default)
    {
        RequireAdmin(actor);
        if (!actor.InstanceAdmin)
            throw CatalogException.Forbidden("Only an instance administrator (an admin of sandbox prod) adds an existing user to a sandbox.");
        CheckRole(role);
        var sandboxId = actor.SandboxId;
        if (!string.IsNullOrWhiteSpace(sandboxName))
            sandboxId = await db.Set<Sandbox>().Where(x => x.Name == sandboxName.Trim().ToLower()).Select(x => x.Id).FirstOrDefaultAsync(ct)
                        ?? throw CatalogException.Invalid("sandbox", $"No sandbox named '{sandboxName}'.");
        var name = userName?.Trim().ToLowerInvariant() ?? "";
        var user = await db.Set<AppUser>().FirstOrDefaultAsync(u => u.UserName == name, ct)
                   ?? throw CatalogException.NotFound($"No user named '{name}'.");
        if (await db.Set<SandboxMembership>().IgnoreQueryFilters().AnyAsync(m => m.UserId == user.Id && m.SandboxId == sandboxId, ct))
            throw CatalogException.Conflict($"User '{name}' is already a member of that sandbox.");
        var membership = new SandboxMembership { UserId = user.Id, SandboxId = sandboxId, Role = role!, User = user };
        db.Add(membership);
        Audit(actor, "user.add", user.UserName, $"role {role} in sandbox {sandboxName ?? "(own)"}");
        var current = db.Sandbox.SandboxId;
        db.Sandbox.SandboxId = null; // a write into the target sandbox, allowed above
        try { await db.SaveChangesAsync(ct); }
        finally { db.Sandbox.SandboxId = current; }
        return membership;
    }

    /// <summary>
    /// Changes a member of the actor's sandbox: the role there, the global disabled flag, the global password. Unknown or
    /// another sandbox's user: 404. <paramref name="currentPassword"/> is needed when users change their own password.
    /// </summary>
    public async Task<SandboxMembership> UpdateAsync(UserActor actor, string userId, string? role, bool? disabled, string? password, string? currentPassword, CancellationToken ct = default)
    {
        var self = actor.UserId is not null && actor.UserId == userId;
        if (!self) RequireAdmin(actor);
        var m = await db.Set<SandboxMembership>().Include(x => x.User).FirstOrDefaultAsync(x => x.UserId == userId, ct)
                ?? throw CatalogException.NotFound($"No user {userId} in this sandbox.");
        var user = m.User!;
        if (role is not null && role != m.Role)
        {
            RequireAdmin(actor);
            CheckRole(role);
            if (self && actor.Role == Roles.Admin && role != Roles.Admin)
                throw CatalogException.Rule("You cannot take away your own admin role; ask another admin.");
            Audit(actor, "user.role", user.UserName, $"{m.Role} -> {role}");
            m.Role = role;
        }
        if (disabled is { } d && d != user.Disabled)
        {
            if (self) throw CatalogException.Rule("You cannot disable yourself.");
            await RequireOnlyHereAsync(actor, user, "disable or enable", ct);
            user.Disabled = d;
            Audit(actor, d ? "user.disable" : "user.enable", user.UserName, null);
        }
        if (password is not null)
        {
            if (UserService.CheckPassword(password) is { } problem) throw CatalogException.Invalid("password", problem);
            if (self)
            {
                if (string.IsNullOrEmpty(currentPassword) || !UserService.Verify(user, currentPassword))
                    throw CatalogException.Forbidden("To change your own password, give your current password as currentPassword.");
            }
            else await RequireOnlyHereAsync(actor, user, "change the password of", ct);
            await users.SetPasswordAsync(user, password, ct);
            Audit(actor, "user.password", user.UserName, self ? "own password" : null);
        }
        await db.SaveChangesAsync(ct);
        return m;
    }

    /// <summary>A signed-in user changes their own password with the current one.</summary>
    public async Task ChangeOwnPasswordAsync(UserActor actor, string? currentPassword, string? newPassword, CancellationToken ct = default)
    {
        if (actor.UserId is null) throw CatalogException.Rule("An API key has no password; sign in as a user to change yours.");
        var user = await db.Set<AppUser>().FirstOrDefaultAsync(u => u.Id == actor.UserId, ct) ?? throw CatalogException.NotFound("Your account no longer exists.");
        if (UserService.CheckPassword(newPassword) is { } problem) throw CatalogException.Invalid("newPassword", problem);
        if (string.IsNullOrEmpty(currentPassword) || !UserService.Verify(user, currentPassword))
            throw CatalogException.Forbidden("The current password is wrong.");
        await users.SetPasswordAsync(user, newPassword!, ct);
        Audit(actor, "user.password", user.UserName, "own password");
        await db.SaveChangesAsync(ct);
    }

    private async Task RequireOnlyHereAsync(UserActor actor, AppUser user, string what, CancellationToken ct)
    {
        if (actor.InstanceAdmin) return;
        var elsewhere = await db.Set<SandboxMembership>().IgnoreQueryFilters().AnyAsync(x => x.UserId == user.Id && x.SandboxId != actor.SandboxId, ct);
        if (elsewhere)
            throw CatalogException.Forbidden($"This user is also a member of other sandboxes: only an instance administrator (an admin of sandbox prod) may {what} them.");
    }

    private static void RequireAdmin(UserActor actor)
    {
        if (actor.Role != Roles.Admin) throw CatalogException.Forbidden("Only admins of this sandbox manage its users.");
    }

    private static void CheckRole(string? role)
    {
        if (!Roles.IsValid(role)) throw CatalogException.Invalid("role", $"role must be one of {string.Join(", ", Roles.All)}.");
    }

    private void Audit(UserActor actor, string action, string target, string? detail) =>
        db.Add(new AuditEntry { SandboxId = actor.SandboxId, Actor = actor.Name, Action = action, Target = target, Detail = detail });
}
