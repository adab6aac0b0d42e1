using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enrichment.Portal.Core.Catalog;

public static class CatalogServiceCollectionExtensions
{
    /// <summary>
    /// Registers the catalog for the chosen provider: a scoped <see cref="CatalogDb"/> (for requests and jobs) and a
    /// scoped <see cref="IDbContextFactory{CatalogDb}"/> (for Blazor components, one context per operation), both
    /// bound to the scope's <see cref="SandboxContext"/>.
    /// </summary>
    public static IServiceCollection AddCatalog(this IServiceCollection services, bool postgres, Func<IServiceProvider, string> connectionString)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.TryAddScoped<SandboxContext>();
        if (postgres)
            Register<PostgresCatalogDb>(services, (sp, o) => o.UseNpgsql(connectionString(sp), n => n.MigrationsHistoryTable("__ef_migrations")));
        else
            Register<SqliteCatalogDb>(services, (sp, o) => o.UseSqlite(connectionString(sp), s => s.MigrationsHistoryTable("__ef_migrations")));
        return services;
    }

    private static void Register<T>(IServiceCollection services, Action<IServiceProvider, DbContextOptionsBuilder> configure) where T : CatalogDb
    {
        services.AddDbContextFactory<T>((sp, o) =>
        {
            configure(sp, o);
            o.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
        }, ServiceLifetime.Scoped);
        services.AddScoped<IDbContextFactory<CatalogDb>>(sp => new Factory<T>(sp.GetRequiredService<IDbContextFactory<T>>()));
        services.AddScoped<CatalogDb>(sp => sp.GetRequiredService<T>());
    }

    private sealed class Factory<T>(IDbContextFactory<T> inner) : IDbContextFactory<CatalogDb> where T : CatalogDb
    {
        public CatalogDb CreateDbContext() => inner.CreateDbContext();
    }
}
