using System.Net;
using System.Net.Http.Json;
using Enrichment.Portal.Tests;

namespace Enrichment.Portal.Web.Tests.Api;

public sealed class FoundationApiTests(PortalHost host)
{
    [Fact]
    public async Task Health_answers_200_without_a_key_and_names_its_checks()
    {
        using var client = host.Api(apiKey: null);
        var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await PortalHost.JsonAsync(response);
        Assert.Equal("healthy", body["status"]!.GetValue<string>());
        Assert.NotNull(body["checks"]!["database"]);
        Assert.NotNull(body["checks"]!["jobServer"]);
        Assert.NotNull(body["checks"]!["dataDirectory"]);
    }

    [Fact]
    public async Task Jobs_need_a_valid_key()
    {
        using var none = host.Api(apiKey: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync("/api/v1/jobs")).StatusCode);
        using var wrong = host.Api("ep_not_a_real_key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/v1/jobs")).StatusCode);
        using var admin = host.Api();
        var ok = await admin.GetAsync("/api/v1/jobs");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(ok))["items"]);
    }

    [Fact]
    public async Task A_viewer_key_gets_403_on_a_write()
    {
        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/jobs")).StatusCode);
        var write = await viewer.PostAsJsonAsync("/api/v1/api-keys", new { name = "x", role = "admin" });
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        var cancel = await viewer.PostAsync("/api/v1/jobs/anything/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
    }

    [Fact]
    public async Task A_key_of_sandbox_dev_cannot_see_an_object_of_prod()
    {
        using var admin = host.Api();
        var job = await PortalHost.JsonAsync(await admin.PostAsync("/api/v1/diagnostics/jobs?seconds=0", null));
        var jobId = job["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);

        using var dev = host.Api(await host.KeyAsync("admin", "dev"));
        Assert.Equal(HttpStatusCode.NotFound, (await dev.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        var list = await PortalHost.JsonAsync(await dev.GetAsync("/api/v1/jobs?limit=1000"));
        Assert.DoesNotContain(list["items"]!.AsArray(), j => j!["id"]!.GetValue<string>() == jobId);
        var keys = await PortalHost.JsonAsync(await dev.GetAsync("/api/v1/api-keys?limit=1000"));
        Assert.DoesNotContain(keys["items"]!.AsArray(), k => k!["name"]!.GetValue<string>() == "bootstrap");
    }

    [Fact]
    public async Task Hangfire_dashboard_refuses_anyone_but_an_admin()
    {
        using var none = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseUri };
        Assert.Equal(HttpStatusCode.Redirect, (await none.GetAsync("/hangfire")).StatusCode);
        using var engineer = host.Api(await host.KeyAsync("engineer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await engineer.GetAsync("/hangfire")).StatusCode);
        using var admin = host.Api();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task A_job_runs_in_the_background_and_its_catalog_row_tells_the_outcome()
    {
        using var admin = host.Api();
        var started = await admin.PostAsync("/api/v1/diagnostics/jobs?seconds=1", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await PortalHost.JsonAsync(started))["id"]!.GetValue<string>();
        var done = await PortalHost.PollAsync(admin, $"/api/v1/jobs/{id}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed");
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        Assert.Equal(1.0, done["progress"]!.GetValue<double>());
        Assert.NotNull(done["startedAt"]);
        Assert.NotNull(done["finishedAt"]);

        var failing = await PortalHost.JsonAsync(await admin.PostAsync("/api/v1/diagnostics/jobs?seconds=0&fail=true", null));
        var failed = await PortalHost.PollAsync(admin, $"/api/v1/jobs/{failing["id"]}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed");
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Contains("asked to fail", failed["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_requests_get_problem_details_not_500()
    {
        using var admin = host.Api();
        var malformed = await admin.PostAsync("/api/v1/api-keys", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
        var badRole = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "x", role = "superuser" });
        Assert.Equal(HttpStatusCode.BadRequest, badRole.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(badRole))["errors"]!["role"]);
        var badLimit = await admin.GetAsync("/api/v1/jobs?limit=5000");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        var badCursor = await admin.GetAsync("/api/v1/jobs?cursor=%%%");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
    }

    [Fact]
    public async Task A_created_key_works_once_shown_and_stops_working_when_revoked()
    {
        using var admin = host.Api();
        var created = await PortalHost.JsonAsync(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "temp", role = "scientist" }));
        var secret = created["key"]!.GetValue<string>();
        using var temp = host.Api(secret);
        Assert.Equal(HttpStatusCode.OK, (await temp.GetAsync("/api/v1/jobs")).StatusCode);
        var list = await admin.GetStringAsync("/api/v1/api-keys?limit=1000");
        Assert.DoesNotContain(secret, list);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/api-keys/{created["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await temp.GetAsync("/api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_document_is_served_to_authenticated_callers()
    {
        using var admin = host.Api();
        var doc = await PortalHost.JsonAsync(await admin.GetAsync("/openapi/v1.json"));
        Assert.NotNull(doc["paths"]!["/api/v1/jobs"]);
    }
}
