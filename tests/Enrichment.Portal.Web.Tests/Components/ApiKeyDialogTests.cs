using Bunit;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Components.Pages.Admin;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class ApiKeyDialogTests : PortalTestContext
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"ep-bunit-{Guid.NewGuid():N}.db");

    public ApiKeyDialogTests()
    {
        Services.AddCatalog(false, _ => $"Data Source={_file}");
        Services.AddSingleton(TimeProvider.System);
        Services.AddScoped<ApiKeyService>();
    }

    private void Seed()
    {
        using var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        db.Database.EnsureCreated();
        db.Add(new Sandbox { Id = SandboxId, Name = "prod", Title = "Production" });
        db.SaveChanges();
    }

    [Fact]
    public async Task The_dialog_shows_a_new_key_once_and_stores_only_its_hash()
    {
        SignIn(Roles.Admin);
        Seed();
        var provider = Render<MudDialogProvider>();
        RenderPopoverProvider();
        var dialogs = Services.GetRequiredService<IDialogService>();
        IDialogReference? reference = null;
        await provider.InvokeAsync(async () => reference = await dialogs.ShowAsync<CreateApiKeyDialog>("New API key"));

        provider.Find("input[data-testid=key-name], [data-testid=key-name] input").Change("nightly export");
        provider.Find("[data-testid=key-submit]").Click();

        var secret = provider.WaitForElement("input[data-testid=created-key], [data-testid=created-key] input").GetAttribute("value")!;
        Assert.StartsWith(ApiKeyService.SecretPrefix, secret);
        Assert.Contains("shown only once", provider.Markup);

        using (var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(SandboxId))
        {
            var key = await scope.ServiceProvider.GetRequiredService<CatalogDb>().Set<ApiKey>().SingleAsync(Xunit.TestContext.Current.CancellationToken);
            Assert.Equal("nightly export", key.Name);
            Assert.Equal(ApiKeyService.Hash(secret), key.Hash);
            Assert.DoesNotContain(secret, key.Hash + key.Prefix.Length);
        }

        provider.Find("[data-testid=key-done]").Click();
        provider.WaitForAssertion(() => Assert.DoesNotContain(secret, provider.Markup));
        Assert.Empty(provider.FindAll("[data-testid=created-key]"));
    }

    [Fact]
    public async Task A_key_without_a_name_is_refused_with_a_message()
    {
        SignIn(Roles.Admin);
        Seed();
        var provider = Render<MudDialogProvider>();
        RenderPopoverProvider();
        await provider.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<CreateApiKeyDialog>("New API key"));
        provider.Find("[data-testid=key-submit]").Click();
        provider.WaitForAssertion(() => Assert.Contains("A key needs a name.", provider.Markup));
        Assert.Empty(provider.FindAll("[data-testid=created-key]"));
    }
}
