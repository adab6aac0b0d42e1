using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Demo;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Hosting;

/// <summary><c>--demo</c> on the start command (or <c>Demo:OnStart=true</c>): queue "Load the demo" once the portal is up.</summary>
public static class DemoStartup
{
    /// <summary>Removes <c>--demo</c> from the arguments (it is a switch, not a configuration key) and turns it into <c>Demo:OnStart=true</c>.</summary>
    public static string[] TakeDemoSwitch(string[] args) =>
        args.Contains("--demo") ? [.. args.Where(a => a != "--demo"), "--Demo:OnStart=true"] : args;

    public static async Task QueueDemoIfAskedAsync(this WebApplication app)
    {
        if (!app.Configuration.GetValue<bool>("Demo:OnStart")) return;
        string prodId;
        await using (var scope = app.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(null))
            prodId = (await scope.ServiceProvider.GetRequiredService<CatalogDb>().Set<Sandbox>().AsNoTracking().FirstAsync(s => s.Name == Sandbox.ProdName)).Id;
        await using var prod = app.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(prodId);
        var run = await prod.ServiceProvider.GetRequiredService<JobScheduler>().EnqueueAsync(DemoJob.Kind, DemoJob.SandboxName, "system");
        app.Logger.LogWarning("--demo: loading the demo into sandbox '{Sandbox}' (job {JobId}; progress on the Jobs page)", DemoJob.SandboxName, run.Id);
    }
}
