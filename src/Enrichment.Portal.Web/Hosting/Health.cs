using System.Text.Json;
using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Catalog;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Web.Hosting;

public sealed class DatabaseHealthCheck(CatalogDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        await db.Database.CanConnectAsync(ct)
            ? HealthCheckResult.Healthy(db.Database.ProviderName?.Split('.').Last())
            : HealthCheckResult.Unhealthy("The catalog database does not answer.");
}

public sealed class JobServerHealthCheck(JobStorage storage, IOptions<JobOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var servers = storage.GetMonitoringApi().Servers();
        var live = servers.Count(s => s.Heartbeat is { } hb && DateTime.UtcNow - hb < TimeSpan.FromMinutes(2));
        if (live > 0) return Task.FromResult(HealthCheckResult.Healthy($"{live} job server(s)"));
        return Task.FromResult(options.Value.Server
            ? HealthCheckResult.Degraded("No job server has reported yet.")
            : HealthCheckResult.Degraded("This process runs no job server and none other is live."));
    }
}

public sealed class DataDirectoryHealthCheck(IOptions<PortalOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var probe = Path.Combine(options.Value.FullDataDirectory, $".health-{Guid.NewGuid():N}");
            await File.WriteAllTextAsync(probe, "ok", ct);
            File.Delete(probe);
            return HealthCheckResult.Healthy("writable");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy("The data directory is not writable: " + ex.Message);
        }
    }
}

public static class HealthResponse
{
    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString().ToLowerInvariant(), detail = e.Value.Description }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
