using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Auth;

public sealed record LoginResult(AppUser? User, string? Error)
{
    public bool Succeeded => User is not null;
}

/// <summary>Users and their roles per sandbox; password checks (see <see cref="LoginBackoff"/> for repeated failures).</summary>
public sealed class UserService(CatalogDb db, TimeProvider clock)
{
    public const int MinPasswordLength = 8;
    private static readonly PasswordHasher<AppUser> Hasher = new();

    public static string? CheckPassword(string? password) =>
        string.IsNullOrEmpty(password) || password.Length < MinPasswordLength
            ? $"A password needs at least {MinPasswordLength} characters." : null;

    /// <summary>Whether the password is the user's (no lockout bookkeeping: for re-authentication of a signed-in user).</summary>
    public static bool Verify(AppUser user, string password) =>
        Hasher.VerifyHashedPassword(user, user.PasswordHash, password) != PasswordVerificationResult.Failed;

    /// <summary>
    /// Checks a user name and password. Unknown, disabled and wrong answers are alike (same message, a hash is verified in
    /// each case), so a caller learns nothing about which names exist. Repeated failures are slowed down per client address
    /// and name by <see cref="LoginBackoff"/>, not by locking the account (which would let anyone lock anyone out).
    /// </summary>
    public async Task<LoginResult> CheckLoginAsync(string userName, string password, CancellationToken ct = default)
    {
        const string generic = "Unknown user name or wrong password.";
        var name = (userName ?? "").Trim().ToLowerInvariant();
        var user = await db.Set<AppUser>().FirstOrDefaultAsync(u => u.UserName == name, ct);
        if (user is null)
        {
            Hasher.VerifyHashedPassword(Dummy, DummyHash, password ?? "");
            return new(null, generic);
        }
        var verdict = Hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? "");
        if (verdict == PasswordVerificationResult.Failed || user.Disabled) return new(null, generic);
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded) user.PasswordHash = Hasher.HashPassword(user, password!);
        user.FailedLogins = 0;
        user.LockedUntil = null;
        user.LastLoginAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return new(user, null);
    }

    /// <summary>Whether a user has this name (for logging a failed sign-in's name only when it is one).</summary>
    public Task<bool> NameExistsAsync(string? userName, CancellationToken ct = default)
    {
        var name = (userName ?? "").Trim().ToLowerInvariant();
        return db.Set<AppUser>().AnyAsync(u => u.UserName == name, ct);
    }

    private static readonly AppUser Dummy = new() { UserName = "-" };
    private static readonly string DummyHash = Hasher.HashPassword(Dummy, Guid.NewGuid().ToString());

    public async Task<AppUser> CreateAsync(string userName, string displayName, string password, string sandboxId, string role, CancellationToken ct = default)
    {
        userName = userName.Trim().ToLowerInvariant();
        if (userName.Length is < 2 or > 100 || !userName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@'))
            throw new ArgumentException("A user name has 2 to 100 letters, digits, '.', '-', '_' or '@'.", nameof(userName));
        if (CheckPassword(password) is { } problem) throw new ArgumentException(problem, nameof(password));
        if (!Roles.IsValid(role)) throw new ArgumentException($"Unknown role '{role}'.", nameof(role));
        if (await db.Set<AppUser>().AnyAsync(u => u.UserName == userName, ct))
            throw new InvalidOperationException($"A user named '{userName}' exists already.");
        var user = new AppUser { UserName = userName, DisplayName = string.IsNullOrWhiteSpace(displayName) ? userName : displayName.Trim() };
        user.PasswordHash = Hasher.HashPassword(user, password);
        user.Memberships.Add(new SandboxMembership { UserId = user.Id, SandboxId = sandboxId, Role = role });
        db.Add(user);
        await db.SaveChangesAsync(ct);
        return user;
    }

    public async Task SetPasswordAsync(AppUser user, string password, CancellationToken ct = default)
    {
        if (CheckPassword(password) is { } problem) throw new ArgumentException(problem, nameof(password));
        user.PasswordHash = Hasher.HashPassword(user, password);
        user.LockedUntil = null;
        user.FailedLogins = 0;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// The sandboxes a user may enter with the role in each, by name. Admins of <c>prod</c> administer the portal:
    /// they may enter every sandbox, as admin where they have no membership of their own.
    /// </summary>
    public async Task<List<(Sandbox Sandbox, string Role)>> SandboxesOfAsync(string userId, CancellationToken ct = default)
    {
        var rows = await db.Set<SandboxMembership>().IgnoreQueryFilters().AsNoTracking()
            .Where(m => m.UserId == userId && !m.User!.Disabled).Include(m => m.Sandbox).ToListAsync(ct);
        var result = rows.Where(m => m.Sandbox is not null).ToDictionary(m => m.SandboxId, m => (m.Sandbox!, m.Role));
        if (rows.Any(m => m.Role == Roles.Admin && m.Sandbox?.Name == Sandbox.ProdName))
            foreach (var s in await db.Set<Sandbox>().AsNoTracking().ToListAsync(ct))
                result.TryAdd(s.Id, (s, Roles.Admin));
        return result.Values.OrderBy(x => x.Item1.Name).ToList();
    }

    /// <summary>The user's role in a sandbox (see <see cref="SandboxesOfAsync"/>), or null when they may not enter it.</summary>
    public async Task<string?> RoleInAsync(string userId, string sandboxId, CancellationToken ct = default) =>
        (await SandboxesOfAsync(userId, ct)).Where(x => x.Sandbox.Id == sandboxId).Select(x => x.Role).FirstOrDefault();
}
