using System.Text.RegularExpressions;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;
using Enrichment.Portal.Core.Sandboxes;

namespace Enrichment.Portal.Core.Auth;

/// <summary>Creates sandboxes. Admins of <c>prod</c> are the portal's administrators.</summary>
public sealed partial class SandboxService(Microsoft.Extensions.DependencyInjection.IServiceScopeFactory scopes)
{
    [GeneratedRegex("^[a-z][a-z0-9-]{1,39}$")]
    private static partial Regex NamePattern();

    public const string NameRule = "A sandbox name has 2 to 40 lower-case letters, digits or '-', starting with a letter.";

    /// <summary>Creates a sandbox; the creating user (if any) becomes its admin. Throws ArgumentException / InvalidOperationException for bad names / duplicates.</summary>
    public async Task<Sandbox> CreateAsync(string? name, string? title, string? creatorUserId, string actor, CancellationToken ct = default)
    {
        var n = name?.Trim().ToLowerInvariant() ?? "";
        if (!NamePattern().IsMatch(n)) throw new ArgumentException(NameRule, nameof(name));
        // A system write: the new sandbox's rows are written from outside it, so use a context with no sandbox selected.
        await using var scope = scopes.CreateSandboxScope(null);
        var db = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<CatalogDb>(scope.ServiceProvider);
        if (await db.Set<Sandbox>().AnyAsync(s => s.Name == n, ct)) throw new InvalidOperationException($"Sandbox '{n}' exists already.");
        var sandbox = new Sandbox { Name = n, Title = string.IsNullOrWhiteSpace(title) ? n : title.Trim() };
        db.Add(sandbox);
        if (creatorUserId is not null)
            db.Add(new SandboxMembership { UserId = creatorUserId, SandboxId = sandbox.Id, Role = Roles.Admin });
        db.Add(new AuditEntry { SandboxId = sandbox.Id, Actor = actor, Action = "sandbox.create", Target = n });
        await db.SaveChangesAsync(ct);
        return sandbox;
    }

    public static async Task<bool> IsPortalAdminAsync(CatalogDb db, string? role, string? sandboxId, CancellationToken ct) =>
        role == Roles.Admin && sandboxId is not null &&
        await db.Set<Sandbox>().AnyAsync(s => s.Id == sandboxId && s.Name == Sandbox.ProdName, ct);
}
