using System.Threading.RateLimiting;
using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Web.Api;
using Enrichment.Portal.Web.Auth;
using Enrichment.Portal.Web.Components;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Http.Features;
using MudBlazor.Services;
using Scalar.AspNetCore;

namespace Enrichment.Portal.Web.Hosting;

public static class PortalHostingExtensions
{
    /// <summary>Everything the portal host needs: options, catalog, auth, jobs, UI, API documentation, health.</summary>
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;
        // Serve package assets (_content/MudBlazor/...) from the build output in every environment when run unpublished
        // (`dotnet run`); a published app has them in wwwroot and this is a no-op.
        builder.WebHost.UseStaticWebAssets();
        OwnerOnlyFiles.RestrictNewFiles();
        // Quiet defaults, below every other source (appsettings, environment, command line override them): EF Core's
        // SQL commands and ASP.NET Core's request lines at Warning, so the first-run credentials line is easy to find.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
            },
        });
        if (string.Equals(config["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
            builder.Logging.ClearProviders().AddJsonConsole();

        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section);
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section);

        // The provider is chosen at start (environment or appsettings); everything else is read when first needed,
        // so that hosts configured late (tests) get their own data directory and connection string.
        var database = config.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        ScaleOut.CheckWorker(config, database.IsPostgres);
        var worker = ScaleOut.IsWorker(config);
        services.AddPortalCore(database.IsPostgres, sp => CatalogConnectionString(sp.GetRequiredService<IConfiguration>(), database.IsPostgres));

        services.AddSingleton<LoginThrottle>();
        services.AddSingleton(sp =>
        {
            var auth = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value;
            return new LoginBackoff(sp.GetRequiredService<TimeProvider>(), auth.FailedSignInsPerAddress, auth.FailedSignInWindow);
        });
        services.AddScoped<PortalInitializer>();
        services.AddScoped<Enrichment.Portal.Web.Components.SandboxOverviewService>();
        services.AddPortalAuth();

        services.AddPortalJobs(database.IsPostgres, config);
        services.AddSharedKeyRing();
        services.AddProblemDetails();
        services.AddExceptionHandler<PortalExceptionHandler>();
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<JobServerHealthCheck>("jobServer")
            .AddCheck<DataDirectoryHealthCheck>("dataDirectory");
        // A worker (--worker) serves jobs and /health only: no UI, no API.
        if (worker) return builder;

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.AddScoped<CircuitHandler, SandboxCircuitHandler>();
        services.AddMudServices();
        services.AddHttpContextAccessor();

        services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Enrichment Portal API";
            doc.Info.Version = "v1";
            doc.Info.Description = "Everything the UI can do, a script can do. Authenticate with the X-Api-Key header.";
            return Task.CompletedTask;
        }));
        services.Configure<FormOptions>(o => o.MultipartBodyLengthLimit = long.MaxValue);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        return builder;
    }

    private static void AddPortalJobs(this IServiceCollection services, bool postgres, IConfiguration config)
    {
        services.AddHangfire((sp, h) =>
        {
            h.SetDataCompatibilityLevel(CompatibilityLevel.Version_180).UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings();
            if (postgres)
                h.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(CatalogConnectionString(sp.GetRequiredService<IConfiguration>(), true)), ScaleOut.StorageOptions(config));
            else
                h.UseInMemoryStorage(new InMemoryStorageOptions { IdType = InMemoryStorageIdType.Long });
            h.UseFilter(sp.GetRequiredService<JobRunFilter>());
            h.UseFilter(new AutomaticRetryAttribute { Attempts = 0 });
        });
        // At least 4: a job that orchestrates others (the demo) holds a worker while the jobs it started run.
        var workers = config.GetValue<int?>("Jobs:WorkerCount") ?? Math.Max(4, Environment.ProcessorCount);
        if (config.GetValue("Jobs:Server", true) || ScaleOut.IsWorker(config))
            services.AddHangfireServer(o =>
            {
                o.WorkerCount = workers;
                o.Queues = ["default"];
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
                if (postgres) ScaleOut.ConfigureServer(o, config);
            });
    }

    /// <summary><c>ConnectionStrings:Catalog</c>, or for SQLite by default <c>catalog.db</c> in the data directory.</summary>
    public static string CatalogConnectionString(IConfiguration config, bool postgres)
    {
        var configured = config.GetConnectionString("Catalog");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        if (postgres) throw new InvalidOperationException("Database:Provider is Postgres but ConnectionStrings:Catalog is not set.");
        var portal = config.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
        OwnerOnlyFiles.Secure(portal.FullDataDirectory);
        return $"Data Source={Path.Combine(portal.FullDataDirectory, "catalog.db")};Default Timeout=60";
    }

    /// <summary>The middleware and endpoints, in order.</summary>
    public static WebApplication UsePortal(this WebApplication app)
    {
        app.UseExceptionHandler();
        if (ScaleOut.IsWorker(app.Configuration))
        {
            app.MapHealthChecks("/health", new() { ResponseWriter = HealthResponse.WriteAsync }).AllowAnonymous();
            return app;
        }
        app.UseStatusCodePages();
        if (!app.Environment.IsDevelopment()) app.UseHsts();
        app.UseAuthentication();
        app.UseMiddleware<SandboxScopeMiddleware>();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapHealthChecks("/health", new() { ResponseWriter = HealthResponse.WriteAsync }).AllowAnonymous();
        app.MapOpenApi("/openapi/{documentName}.json");
        // Works offline: its script is served by the portal; no fonts from a CDN, no AI agent, MCP, telemetry or developer
        // toolbar (outside services the portal cannot offer).
        app.MapScalarApiReference("/api/reference", o =>
        {
            o.WithTitle("Enrichment Portal API").WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .DisableDefaultFonts().DisableAgent().DisableMcp().DisableTelemetry();
            o.ShowDeveloperTools = DeveloperToolsVisibility.Never;
            o.ProxyUrl = null;
        });
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new HangfireAdminAuthorization()],
            DisplayStorageConnectionString = false,
            AppPath = "/jobs",
            DashboardTitle = "Enrichment Portal jobs",
        }).RequireAuthorization(Policies.Admin);
        app.MapAccountEndpoints();
        app.MapPortalApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Migrates the catalog, bootstraps sandbox/admin/key, re-queues interrupted jobs. Run before serving.</summary>
    public static async Task InitializePortalAsync(this WebApplication app)
    {
        await ScaleOut.InitializeSerializedAsync(app.Services, async ct =>
        {
            using var scope = app.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<PortalInitializer>().InitializeAsync(ct);
        }, app.Lifetime.ApplicationStopping);
    }
}

/// <summary><c>Jobs:*</c></summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";
    /// <summary>Run a job server in this process (default true; <c>false</c> for a UI process beside workers). A process
    /// started with <c>--worker</c> (<see cref="Worker"/>) serves jobs and no UI.</summary>
    public bool Server { get; set; } = true;
    /// <summary>Set by <c>--worker</c>: jobs and <c>/health</c> only (PostgreSQL only).</summary>
    public bool Worker { get; set; }
    public int? WorkerCount { get; set; }
}
