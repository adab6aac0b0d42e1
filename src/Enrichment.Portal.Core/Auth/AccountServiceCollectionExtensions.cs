using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Auth;

public static class AccountServiceCollectionExtensions
{
    /// <summary>Users, API keys and sandboxes (the host adds sign-in: cookies and the API key scheme).</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddScoped<ApiKeyService>();
        services.AddScoped<UserService>();
        services.AddScoped<UserAdministration>();
        services.AddScoped<SandboxService>();
        return services;
    }
}
