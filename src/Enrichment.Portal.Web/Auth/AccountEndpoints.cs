using System.Security.Claims;
using System.Threading.RateLimiting;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Web.Auth;

/// <summary>Cookie sign-in with the claims of one sandbox; switching sandbox signs in again with the other's role.</summary>
public static class PortalSignIn
{
    public static ClaimsPrincipal Principal(AppUser user, Sandbox sandbox, string role) =>
        new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.Id),
            new Claim(ClaimTypes.Name, user.UserName),
            new Claim(ClaimTypes.GivenName, user.DisplayName),
            new Claim(ClaimTypes.Role, role),
            new Claim(PortalClaims.UserId, user.Id),
            new Claim(PortalClaims.SandboxId, sandbox.Id),
            new Claim(PortalClaims.SandboxName, sandbox.Name),
        ], CookieAuthenticationDefaults.AuthenticationScheme));

    public static Task SignInAsync(HttpContext http, AppUser user, Sandbox sandbox, string role) =>
        http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, Principal(user, sandbox, role),
            new AuthenticationProperties { IsPersistent = false });

    /// <summary>Returns a local URL or "/" (no open redirects).</summary>
    public static string SafeReturnUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//") && !url.StartsWith("/\\") ? url : "/";
}

/// <summary>Rejects a user whose account was disabled or whose role in the sandbox changed since sign-in.</summary>
public static class CookieValidation
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext ctx)
    {
        var userId = ctx.Principal?.UserId();
        var sandboxId = ctx.Principal?.SandboxId();
        if (userId is null || sandboxId is null) { ctx.RejectPrincipal(); return; }
        var users = ctx.HttpContext.RequestServices.GetRequiredService<UserService>();
        var role = await users.RoleInAsync(userId, sandboxId);
        if (role is null || role != ctx.Principal!.PortalRole())
        {
            ctx.RejectPrincipal();
            await ctx.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }
}

/// <summary>Limits login attempts per client address (a sliding window), on top of the per-user lockout.</summary>
public sealed class LoginThrottle(IOptions<AuthOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetSlidingWindowLimiter(address, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, options.Value.LoginAttemptsPerMinute),
            Window = TimeSpan.FromMinutes(1),
            SegmentsPerWindow = 6,
            QueueLimit = 0,
        }));

    /// <summary>True when one more attempt from this address is allowed now.</summary>
    public bool TryAcquire(string address)
    {
        using var lease = _limiter.AttemptAcquire(address);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}

public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/account").ExcludeFromDescription();
        account.MapPost("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect("/login");
        }).AllowAnonymous();

        account.MapGet("/sandbox/{name}", async (string name, string? returnUrl, HttpContext http, CatalogDb db, UserService users) =>
        {
            var userId = http.User.UserId();
            if (userId is null) return Results.Forbid();
            var target = (await users.SandboxesOfAsync(userId)).FirstOrDefault(x => x.Sandbox.Name == name);
            if (target.Sandbox is null) return Results.NotFound();
            var user = await db.Set<AppUser>().AsNoTracking().FirstAsync(u => u.Id == userId);
            await PortalSignIn.SignInAsync(http, user, target.Sandbox, target.Role);
            return Results.LocalRedirect(PortalSignIn.SafeReturnUrl(returnUrl));
        });
    }
}
