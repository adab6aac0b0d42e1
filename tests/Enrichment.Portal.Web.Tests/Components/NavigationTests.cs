using Bunit;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Web.Components.Layout;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class NavigationTests : PortalTestContext
{
    [Fact]
    public void A_viewer_sees_no_admin_pages()
    {
        SignIn(Roles.Viewer);
        var nav = Render<NavMenu>();
        Assert.NotEmpty(nav.FindAll("[data-testid=nav-jobs]"));
        Assert.Empty(nav.FindAll("[data-testid=nav-admin-users]"));
        Assert.Empty(nav.FindAll("[data-testid=nav-admin-keys]"));
        Assert.Empty(nav.FindAll("[data-testid=nav-admin-sandboxes]"));
    }

    [Fact]
    public void An_admin_sees_the_admin_pages()
    {
        SignIn(Roles.Admin);
        var nav = Render<NavMenu>();
        Assert.NotEmpty(nav.FindAll("[data-testid=nav-admin-users]"));
        Assert.NotEmpty(nav.FindAll("[data-testid=nav-admin-keys]"));
        Assert.NotEmpty(nav.FindAll("[data-testid=nav-admin-sandboxes]"));
    }

    [Fact]
    public void Every_nav_link_points_to_a_routable_page_or_a_mapped_endpoint()
    {
        var routes = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes(typeof(Microsoft.AspNetCore.Components.RouteAttribute), false).Cast<Microsoft.AspNetCore.Components.RouteAttribute>())
            .Select(r => r.Template).ToHashSet();
        string[] endpoints = ["/api/reference"];
        foreach (var link in NavGroups.All.SelectMany(g => g.Links))
            Assert.True(routes.Contains(link.Href) || endpoints.Contains(link.Href), $"{link.Href} has no page: the nav must not list pages that do not exist");
    }
}
