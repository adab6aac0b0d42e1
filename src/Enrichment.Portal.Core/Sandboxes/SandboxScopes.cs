using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Sandboxes;

public static class SandboxScopes
{
    /// <summary>A new DI scope working in the given sandbox (for a unit of work from a long-lived UI circuit).</summary>
    public static AsyncServiceScope CreateSandboxScope(this IServiceScopeFactory scopes, string? sandboxId)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<SandboxContext>().SandboxId = sandboxId;
        return scope;
    }
}
