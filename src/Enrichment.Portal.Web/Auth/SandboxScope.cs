using System.Security.Claims;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Sandboxes;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Enrichment.Portal.Web.Auth;

public static class PrincipalExtensions
{
    public static string? SandboxId(this ClaimsPrincipal user) => user.FindFirstValue(PortalClaims.SandboxId);
    public static string? SandboxName(this ClaimsPrincipal user) => user.FindFirstValue(PortalClaims.SandboxName);
    public static string? PortalRole(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.Role);
    public static string? UserId(this ClaimsPrincipal user) => user.FindFirstValue(PortalClaims.UserId);
    public static bool HasPolicy(this ClaimsPrincipal user, string policy) =>
        user.PortalRole() is { } role && Policies.RolesFor[policy].Contains(role);
    /// <summary>Who did it, for audit entries: the user name or the key.</summary>
    public static string Actor(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";
}

/// <summary>Selects the authenticated principal's sandbox for the request's scope.</summary>
public sealed class SandboxScopeMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context, SandboxContext sandbox)
    {
        sandbox.SandboxId = context.User.SandboxId();
        return next(context);
    }
}

/// <summary>Selects the signed-in user's sandbox for a Blazor circuit's scope.</summary>
public sealed class SandboxCircuitHandler(AuthenticationStateProvider auth, SandboxContext sandbox) : CircuitHandler
{
    public override async Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        var state = await auth.GetAuthenticationStateAsync();
        sandbox.SandboxId = state.User.SandboxId();
    }
}

/// <summary>The Hangfire dashboard is for admins of the current sandbox only.</summary>
public sealed class HangfireAdminAuthorization : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) =>
        context.GetHttpContext().User.HasPolicy(Policies.Admin);
}
