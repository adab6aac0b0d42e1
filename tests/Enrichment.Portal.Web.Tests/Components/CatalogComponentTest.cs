using System.Security.Claims;
using Bunit;
using Bunit.Rendering;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>
/// Shared bUnit setup for catalog components: loose JS interop, MudBlazor services, a signed-in engineer of sandbox
/// <c>sb</c>, and the real catalog services on a SQLite file in a temp folder.
/// </summary>
public abstract class CatalogComponentTest : BunitContext
{
    protected const string SandboxId = "sb";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ep-bunit-" + Guid.NewGuid().ToString("N"));

    protected CatalogComponentTest()
    {
        Directory.CreateDirectory(_dir);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o => { o.PopoverOptions.CheckForPopoverProvider = false; });
        Services.AddLogging();
        Services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        var connection = $"Data Source={Path.Combine(_dir, "catalog.db")};Pooling=False";
        Services.AddCatalog(postgres: false, _ => connection);
        Services.AddSingleton(new SandboxContext { SandboxId = SandboxId });
        Services.AddIdentity().AddSchemas().AddDatasets();
        ConfigureServices(Services);

        var auth = AddAuthorization();
        auth.SetAuthorized("tester");
        auth.SetRoles(Roles.Engineer);
        auth.SetPolicies(Policies.Read, Policies.Write, Policies.Engineer);
        auth.SetClaims(new Claim(PortalClaims.SandboxId, SandboxId), new Claim(PortalClaims.SandboxName, "test"), new Claim(ClaimTypes.Role, Roles.Engineer));

        using var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(null);
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        db.Database.EnsureCreated();
        db.Add(new Sandbox { Id = SandboxId, Name = "test", Title = "Test" });
        db.SaveChanges();
    }

    /// <summary>More services for a derived test; called before the first service is resolved (derived field initializers have run).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    /// <summary>Runs catalog work in the test sandbox (e.g. to prepare a schema).</summary>
    protected async Task<T> WithServicesAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(SandboxId);
        return await work(scope.ServiceProvider);
    }

    /// <summary>Renders a component below the MudBlazor providers (popovers for selects, dialogs).</summary>
    protected IRenderedComponent<ContainerFragment> RenderWithProviders<T>(Dictionary<string, object?>? parameters = null) where T : IComponent =>
        Render(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<MudDialogProvider>(1);
            b.CloseComponent();
            b.OpenComponent<MudSnackbarProvider>(2);
            b.CloseComponent();
            b.OpenComponent<T>(3);
            if (parameters is not null) b.AddMultipleAttributes(4, parameters!);
            b.CloseComponent();
        });

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
