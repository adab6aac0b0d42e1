using Bunit;
using Enrichment.Portal.Web.Components.Pages;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Web.Auth;
using Enrichment.Portal.Core.Catalog;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class LoginFormTests : PortalTestContext
{
    public LoginFormTests()
    {
        var file = Path.Combine(Path.GetTempPath(), $"ep-bunit-{Guid.NewGuid():N}.db");
        Services.AddCatalog(false, _ => $"Data Source={file}");
        Services.AddSingleton(TimeProvider.System);
        Services.AddScoped<UserService>();
        Services.AddSingleton(new LoginBackoff(TimeProvider.System));
        Services.AddSingleton(new LoginThrottle(Options.Create(new AuthOptions { LoginAttemptsPerMinute = 2 })));
    }

    private IRenderedComponent<Login> RenderLogin() =>
        Render<Login>(p => p.AddCascadingValue(new DefaultHttpContext()));

    [Fact]
    public void Submitting_an_empty_form_names_both_missing_fields()
    {
        var login = RenderLogin();
        login.Find("form").Submit();
        Assert.Contains("Enter your user name.", login.Markup);
        Assert.Contains("Enter your password.", login.Markup);
        Assert.Empty(login.FindAll("[data-testid=login-error]"));
    }

    [Fact]
    public void A_wrong_password_shows_one_message_that_does_not_tell_which_part_was_wrong()
    {
        using (var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateScope())
            scope.ServiceProvider.GetRequiredService<CatalogDb>().Database.EnsureCreated();
        var login = RenderLogin();
        login.Find("[data-testid=login-username]").Change("nobody");
        login.Find("[data-testid=login-password]").Change("wrong-password");
        login.Find("form").Submit();
        login.WaitForAssertion(() => Assert.Contains("Unknown user name or wrong password.", login.Find("[data-testid=login-error]").TextContent));
    }

    [Fact]
    public void Too_many_attempts_from_one_address_are_refused()
    {
        using (var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateScope())
            scope.ServiceProvider.GetRequiredService<CatalogDb>().Database.EnsureCreated();
        var login = RenderLogin();
        for (var i = 0; i < 3; i++)
        {
            login.Find("[data-testid=login-username]").Change("nobody");
            login.Find("[data-testid=login-password]").Change("wrong-password");
            login.Find("form").Submit();
        }
        login.WaitForAssertion(() => Assert.Contains("Too many sign-in attempts", login.Find("[data-testid=login-error]").TextContent));
    }

    [Fact]
    public async Task Repeated_failures_for_one_name_back_off_with_the_same_answer_whether_the_name_exists_or_not()
    {
        Services.AddSingleton(new LoginThrottle(Options.Create(new AuthOptions { LoginAttemptsPerMinute = 1000 })));
        using (var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
            await db.Database.EnsureCreatedAsync(Xunit.TestContext.Current.CancellationToken);
            var sandbox = new Enrichment.Portal.Core.Sandboxes.Sandbox { Id = db.Sandbox.SandboxId ?? "sandbox-prod-id", Name = "prod", Title = "Production" };
            db.Add(sandbox);
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
            await scope.ServiceProvider.GetRequiredService<UserService>().CreateAsync("jane", "Jane", "correct-horse", sandbox.Id, Roles.Viewer, Xunit.TestContext.Current.CancellationToken);
        }
        string Attempt(string name)
        {
            var login = RenderLogin();
            login.Find("[data-testid=login-username]").Change(name);
            login.Find("[data-testid=login-password]").Change("wrong-password");
            login.Find("form").Submit();
            string text = "";
            login.WaitForAssertion(() => text = login.Find("[data-testid=login-error]").TextContent);
            return text;
        }
        foreach (var name in new[] { "jane", "nobody" })
        {
            for (var i = 0; i < LoginBackoff.FreeAttempts; i++) Assert.Contains("Unknown user name or wrong password.", Attempt(name));
            Assert.Contains("Too many failed sign-ins for this user name from your address", Attempt(name));
        }
    }
}
