using Enrichment.Portal.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;

namespace Enrichment.Portal.Web.Auth;

public static class AuthServiceCollectionExtensions
{
    public const string PortalScheme = "portal";

    /// <summary>
    /// Cookie login for the UI, <c>X-Api-Key</c> for scripts; the "portal" scheme picks the one the request carries.
    /// Every endpoint needs one of them (fallback policy) unless it says otherwise.
    /// </summary>
    public static IServiceCollection AddPortalAuth(this IServiceCollection services)
    {
        services.AddAuthentication(PortalScheme)
            .AddPolicyScheme(PortalScheme, "Cookie or API key", o => o.ForwardDefaultSelector = ctx =>
                ctx.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName)
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.LoginPath = "/login";
                o.LogoutPath = "/account/logout";
                o.AccessDeniedPath = "/access-denied";
                o.Cookie.Name = "ep_auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = ctx => ApiAware(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => ApiAware(ctx, StatusCodes.Status403Forbidden);
                o.Events.OnValidatePrincipal = CookieValidation.ValidateAsync;
            });
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<Microsoft.Extensions.Options.IOptions<AuthOptions>>((o, auth) => o.ExpireTimeSpan = auth.Value.SessionLifetime);

        services.AddAuthorization(o =>
        {
            foreach (var (policy, roles) in Policies.RolesFor)
                o.AddPolicy(policy, p => p.RequireAuthenticatedUser().RequireClaim(PortalClaims.SandboxId).RequireRole(roles));
            o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        return services;
    }

    private static Task ApiAware(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        var path = ctx.Request.Path;
        // The API reference is a page for a browser: it redirects to the sign-in page like the others.
        if ((path.StartsWithSegments("/api") && !path.StartsWithSegments("/api/reference")) || path.StartsWithSegments("/openapi"))
        {
            ctx.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }
}
