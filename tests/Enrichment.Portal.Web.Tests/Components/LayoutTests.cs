using Bunit;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Web.Components.Layout;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class LayoutTests : PortalTestContext
{
    public LayoutTests()
    {
        // The layout lists the user's sandboxes through UserService over a real SQLite catalog.
        var file = Path.Combine(Path.GetTempPath(), $"ep-bunit-{Guid.NewGuid():N}.db");
        Services.AddCatalog(false, _ => $"Data Source={file}");
        Services.AddSingleton(TimeProvider.System);
        Services.AddScoped<UserService>();
    }

    [Fact]
    public void The_app_bar_shows_the_sandbox_switcher_the_user_menu_and_the_theme_toggle()
    {
        SignIn(Roles.Engineer);
        using (var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateScope())
            scope.ServiceProvider.GetRequiredService<CatalogDb>().Database.EnsureCreated();
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));
        Assert.Contains("prod", layout.Find("[data-testid=current-sandbox]").TextContent);
        Assert.NotNull(layout.Find("[data-testid=theme-toggle]"));
        Assert.NotNull(layout.Find("[data-testid=user-menu]"));
        Assert.Contains("page body", layout.Markup);
        Assert.NotEmpty(layout.FindAll("[data-testid=nav-home]"));
    }
}
