using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Tests;
using Microsoft.Extensions.DependencyInjection;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// Destinations on a cron schedule (a firing starts one run, even when two schedule checks race; the run is recorded with its
/// counts, bytes and duration), editing and deleting destinations, and the export root: an absolute folder inside
/// <c>Destinations:ExportRoot</c> is written to, one outside it (or escaping it with '..') is a 422.
/// </summary>
public sealed class DestinationScheduleTests(PortalHost host)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static async Task<(HttpStatusCode, JsonNode)> SendAsync(HttpClient api, HttpMethod method, string url, object body)
    {
        var r = await api.SendAsync(new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) });
        return (r.StatusCode, await PortalHost.JsonAsync(r));
    }

    [Fact]
    public async Task A_scheduled_destination_fires_once_per_firing_and_writes_inside_the_export_root()
    {
        var sandbox = "dsched-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        await AudiencesApiTests.PeopleAsync(api, tag, 10);
        var (_, created) = await SendAsync(api, HttpMethod.Post, "/api/v1/segments", new { name = Unique("Gold"), rule = new { attribute = "person.tier", op = "eq", value = "gold" } });
        var segment = created.Id();
        Assert.Equal(5, (await AudiencesApiTests.EvaluatedAsync(api, segment))["size"]!.GetValue<long>());

        // Bad schedules and folders: 422 naming the field.
        var inside = Path.Combine(host.ExportRoot, "crm-" + tag);
        foreach (var (cron, target) in new[] { ("every day", "ok-" + tag), ("0 0 31 2 *", "ok-" + tag), ("0 3 * * *", "/etc/portal-" + tag),
                     ("0 3 * * *", host.ExportRoot + "/../escape-" + tag), ("0 3 * * *", "sub/../../x") })
        {
            var (s, bad) = await SendAsync(api, HttpMethod.Post, "/api/v1/destinations", new { name = Unique("Bad"), type = "file", target, cron, segmentIds = new[] { segment } });
            Assert.True(s == HttpStatusCode.UnprocessableEntity, $"{cron} {target}: {(int)s} {bad.ToJsonString()}");
            Assert.NotNull(bad["errors"]![target.StartsWith("ok-", StringComparison.Ordinal) ? "cron" : "target"]);
        }

        // Yearly at midnight on January 1st: the real clock does not reach it during the test; the scheduler is called with a time past it.
        var (cs, dest) = await SendAsync(api, HttpMethod.Post, "/api/v1/destinations", new
        {
            name = Unique("Scheduled"), type = "file", target = inside, format = "csv", mode = "full", cron = "0 0 1 1 *", segmentIds = new[] { segment }, identities = new[] { "CRMID" },
        });
        Assert.True(cs == HttpStatusCode.Created, dest.ToJsonString());
        var id = dest.Id();
        var next = dest["nextRunAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal(new DateTimeOffset(next.Year, 1, 1, 0, 0, 0, TimeSpan.Zero), next);

        async Task<IReadOnlyList<ScheduledDestinationRun>> CheckAsync(DateTimeOffset now)
        {
            await using var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(null);
            return (await scope.ServiceProvider.GetRequiredService<DestinationScheduler>().RunDueAsync(now)).Where(r => r.DestinationId == id).ToList();
        }

        Assert.Empty(await CheckAsync(next.AddSeconds(-1)));
        // Two checks racing on the same firing: one run.
        var raced = await Task.WhenAll(CheckAsync(next.AddSeconds(1)), CheckAsync(next.AddSeconds(1)));
        var fired = raced.SelectMany(r => r).ToList();
        Assert.Single(fired);
        Assert.NotNull(fired[0].JobRunId);
        Assert.Empty(await CheckAsync(next.AddSeconds(2)));
        var job = await PortalHost.PollAsync(api, $"/api/v1/jobs/{fired[0].JobRunId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", Wait);
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());

        var detail = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{id}"));
        Assert.Equal(next.AddYears(1), detail["destination"]!["nextRunAt"]!.GetValue<DateTimeOffset>());
        var run = detail["runs"]!.AsArray().Single()!;
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(5, run["members"]!.GetValue<long>());
        Assert.True(run["bytes"]!.GetValue<long>() > 0);
        Assert.True(run["finishedAt"]!.GetValue<DateTimeOffset>() >= run["startedAt"]!.GetValue<DateTimeOffset>());
        var file = run["file"]!.GetValue<string>();
        Assert.StartsWith(inside + Path.DirectorySeparatorChar, file);
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal(6, lines.Length);
        Assert.Equal(new FileInfo(file).Length, run["bytes"]!.GetValue<long>());

        // Edit: a new name and no schedule; the type cannot change; delete.
        var (ps, patched) = await SendAsync(api, HttpMethod.Patch, $"/api/v1/destinations/{id}", new { name = Unique("Renamed"), cron = "" });
        Assert.True(ps == HttpStatusCode.OK, patched.ToJsonString());
        Assert.Null(patched["cron"]);
        Assert.Null(patched["nextRunAt"]);
        var (ts, typed) = await SendAsync(api, HttpMethod.Patch, $"/api/v1/destinations/{id}", new { type = "webhook" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ts);
        Assert.NotNull(typed["errors"]!["type"]);
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/destinations/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/destinations/{id}")).StatusCode);
    }
}
