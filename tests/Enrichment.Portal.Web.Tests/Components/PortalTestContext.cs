using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>
/// Shared bUnit setup: loose JS interop, MudBlazor services without transitions, a signed-in user of one role in
/// sandbox <c>prod</c>, and a popover provider rendered first (selects, menus and dialogs need it).
/// </summary>
public abstract class PortalTestContext : BunitContext
{
    public const string SandboxId = "sandbox-prod-id";

    protected PortalTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
        Services.AddScoped(_ => new SandboxContext { SandboxId = SandboxId });
    }

    /// <summary>Signs in a user with a role in sandbox prod, with the claims the portal issues.</summary>
    protected BunitAuthorizationContext SignIn(string role, string userName = "jane")
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(userName);
        auth.SetRoles(role);
        auth.SetClaims(
            new Claim(PortalClaims.SandboxId, SandboxId),
            new Claim(PortalClaims.SandboxName, "prod"),
            new Claim(PortalClaims.UserId, "user-" + userName));
        foreach (var (policy, roles) in Policies.RolesFor)
            if (roles.Contains(role)) auth.SetPolicies(Policies.RolesFor.Where(p => p.Value.Contains(role)).Select(p => p.Key).ToArray());
        return auth;
    }

    protected IRenderedComponent<MudPopoverProvider> RenderPopoverProvider() => Render<MudPopoverProvider>();
}
