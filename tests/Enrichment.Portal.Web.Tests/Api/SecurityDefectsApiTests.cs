using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Enrichment.Portal.Web.Tests.Api.BatchIngestionApiTests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>Issue #21: each defect the hostile probe found, through the real API.</summary>
public sealed class SecurityDefectsApiTests(PortalHost host)
{
    private CatalogDb SystemDb(IServiceScope scope)
    {
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        db.Sandbox.SandboxId = null;
        return db;
    }

    private async Task<string> ProdAdminIdAsync()
    {
        using var prod = host.Api();
        var users = await PortalHost.JsonAsync(await prod.GetAsync("/api/v1/users"));
        return users["items"]!.AsArray().First(u => u!["userName"]!.GetValue<string>() == "admin")!["id"]!.GetValue<string>();
    }

    private async Task<bool> AdminPasswordStillWorksAsync()
    {
        using var scope = host.Services.CreateScope();
        return (await scope.ServiceProvider.GetRequiredService<UserService>().CheckLoginAsync("admin", PortalHost.AdminPassword)).Succeeded;
    }

    [Fact]
    public async Task A_sandbox_admin_cannot_take_over_or_even_see_the_prod_admin()
    {
        using var dev2 = host.Api(await host.KeyAsync("admin", "dev2-takeover"));
        var adminId = await ProdAdminIdAsync();

        var create = await dev2.PostAsJsonAsync("/api/v1/users", new { userName = "admin", password = "attacker-password-1", role = "viewer" });
        Assert.Equal(HttpStatusCode.Conflict, create.StatusCode);
        var body = await create.Content.ReadAsStringAsync();
        Assert.DoesNotContain(adminId, body);
        Assert.DoesNotContain("Administrator", body);
        Assert.DoesNotContain("createdAt", body);
        // The same answer for any taken name, and the account was not linked to dev2.
        var list = await PortalHost.JsonAsync(await dev2.GetAsync("/api/v1/users"));
        Assert.DoesNotContain(list["items"]!.AsArray(), u => u!["userName"]!.GetValue<string>() == "admin");

        Assert.Equal(HttpStatusCode.NotFound, (await dev2.PatchAsJsonAsync($"/api/v1/users/{adminId}", new { password = "attacker-password-1" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dev2.PatchAsJsonAsync($"/api/v1/users/{adminId}", new { disabled = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dev2.PostAsJsonAsync("/api/v1/users/memberships", new { userName = "admin", role = "viewer" })).StatusCode);
        Assert.True(await AdminPasswordStillWorksAsync());
    }

    [Fact]
    public async Task A_user_of_several_sandboxes_is_changed_only_by_an_instance_admin_and_every_change_is_audited()
    {
        const string sandbox = "dev2-shared";
        using var prod = host.Api();
        using var dev2 = host.Api(await host.KeyAsync("admin", sandbox));
        var name = "shared-" + Guid.NewGuid().ToString("N")[..8];
        var created = await prod.PostAsJsonAsync("/api/v1/users", new { userName = name, password = "first-password-1", role = "engineer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await PortalHost.JsonAsync(created))["id"]!.GetValue<string>();

        // The instance admin (prod admin key) adds the existing user to dev2; a second add is a conflict.
        var added = await prod.PostAsJsonAsync("/api/v1/users/memberships", new { userName = name, role = "viewer", sandbox });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await prod.PostAsJsonAsync("/api/v1/users/memberships", new { userName = name, role = "viewer", sandbox })).StatusCode);

        // dev2's admin may change the role in dev2, not the password or the disabled flag of a user who is also in prod.
        Assert.Equal(HttpStatusCode.OK, (await dev2.PatchAsJsonAsync($"/api/v1/users/{id}", new { role = "scientist" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dev2.PatchAsJsonAsync($"/api/v1/users/{id}", new { password = "taken-over-1" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dev2.PatchAsJsonAsync($"/api/v1/users/{id}", new { disabled = true })).StatusCode);
        // The instance admin may.
        Assert.Equal(HttpStatusCode.OK, (await prod.PatchAsJsonAsync($"/api/v1/users/{id}", new { password = "second-password-2" })).StatusCode);

        // A user only of dev2 is dev2's admin's to manage.
        var local = await dev2.PostAsJsonAsync("/api/v1/users", new { userName = name + "-local", password = "local-password-1", role = "viewer" });
        var localId = (await PortalHost.JsonAsync(local))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await dev2.PatchAsJsonAsync($"/api/v1/users/{localId}", new { password = "local-password-2", disabled = true })).StatusCode);

        using var scope = host.Services.CreateScope();
        var db = SystemDb(scope);
        var actions = await db.Set<AuditEntry>().IgnoreQueryFilters().Where(a => a.Target == name || a.Target == name + "-local").Select(a => a.Action).ToListAsync();
        Assert.Superset(new HashSet<string> { "user.create", "user.add", "user.role", "user.password", "user.disable" }, actions.ToHashSet());
        Assert.DoesNotContain(await db.Set<AuditEntry>().IgnoreQueryFilters().Select(a => a.Detail).ToListAsync(), d => d != null && d.Contains("password-"));
    }

    [Fact]
    public async Task A_key_has_no_password_and_a_key_change_is_audited()
    {
        using var prod = host.Api();
        var r = await prod.PostAsJsonAsync("/api/v1/account/password", new { currentPassword = "x", newPassword = "long-enough-1" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        var key = await PortalHost.JsonAsync(await prod.PostAsJsonAsync("/api/v1/api-keys", new { name = "audited", role = "viewer" }));
        Assert.Equal(HttpStatusCode.NoContent, (await prod.DeleteAsync($"/api/v1/api-keys/{key["id"]}")).StatusCode);
        using var scope = host.Services.CreateScope();
        var actions = await SystemDb(scope).Set<AuditEntry>().IgnoreQueryFilters().Where(a => a.Target == key["id"]!.GetValue<string>()).Select(a => a.Action).ToListAsync();
        Assert.Equal(["apikey.create", "apikey.revoke"], actions.Order());
    }

    [Fact]
    public async Task Only_the_roles_that_start_a_job_kind_may_cancel_it()
    {
        using var marketer = host.Api(await host.KeyAsync("marketer"));
        using var scientist = host.Api(await host.KeyAsync("scientist"));
        var (batchId, jobId) = await SeedRunningBatchAsync(commitStarted: false);
        var refused = await marketer.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await scientist.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).StatusCode);
        Assert.Equal(("processing", "running"), await StatesAsync(batchId, jobId));

        using var engineer = host.Api(await host.KeyAsync("engineer"));
        Assert.Equal(HttpStatusCode.Accepted, (await engineer.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).StatusCode);
        Assert.Equal(("abandoned", "cancelled"), await StatesAsync(batchId, jobId));
    }

    [Fact]
    public async Task A_cancel_after_the_commit_point_is_too_late_and_changes_neither_the_job_nor_the_batch()
    {
        using var engineer = host.Api(await host.KeyAsync("engineer"));
        var (batchId, jobId) = await SeedRunningBatchAsync(commitStarted: true);
        var late = await engineer.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("Too late", (await PortalHost.JsonAsync(late))["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await engineer.PostAsync($"/api/v1/batches/{batchId}/cancel", null)).StatusCode);
        Assert.Equal(("processing", "running"), await StatesAsync(batchId, jobId));
    }

    [Fact]
    public async Task Cancelling_a_real_ingestion_leaves_job_and_batch_agreeing()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("Cancel race")));
        using var tmp = TestData.NewTempDir();
        var file = Path.Combine(tmp.Path, "many.csv");
        await using (var w = new StreamWriter(file))
        {
            await w.WriteAsync("id,email,age,vip,person.tier\n");
            for (var i = 0; i < 200_000; i++) await w.WriteAsync($"C{i},c{i}@x.org,{i % 90},true,gold\n");
        }
        var upload = await PortalHost.JsonAsync(await UploadAsync(api, ds, file));
        var batchId = upload.Id();
        var jobId = (await PortalHost.PollAsync(api, $"/api/v1/batches/{batchId}", b => b["jobRunId"] is not null))["jobRunId"]!.GetValue<string>();
        var cancel = await api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
        var batch = await PortalHost.PollAsync(api, $"/api/v1/batches/{batchId}", b => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned");
        var job = await PortalHost.PollAsync(api, $"/api/v1/jobs/{jobId}", x => JobStatus.IsFinal(x["status"]!.GetValue<string>()));
        await Task.Delay(1500); // a job that lost the race must not flip anything afterwards
        batch = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{batchId}"));
        job = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/jobs/{jobId}"));
        var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds}"));
        if (cancel.StatusCode == HttpStatusCode.Accepted)
        {
            Assert.Equal("abandoned", batch["status"]!.GetValue<string>());
            Assert.Equal("cancelled", job["status"]!.GetValue<string>());
            Assert.Equal(0L, dataset["recordCount"]!.GetValue<long>());
        }
        else
        {
            Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
            Assert.Equal(batch["status"]!.GetValue<string>() == "success" ? "succeeded" : "failed", job["status"]!.GetValue<string>());
        }
    }

    private async Task<(string BatchId, string JobId)> SeedRunningBatchAsync(bool commitStarted)
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("Seeded")));
        using var scope = host.Services.CreateScope();
        var db = SystemDb(scope);
        var sandboxId = await LakeSeed.SandboxIdAsync(api);
        var run = new JobRun { SandboxId = sandboxId, Kind = IngestionService.JobKind, Status = JobStatus.Running, StartedAt = DateTimeOffset.UtcNow };
        var batch = new Batch { SandboxId = sandboxId, DatasetId = ds, Status = BatchStatus.Processing, JobRunId = run.Id, CommitStartedAt = commitStarted ? DateTimeOffset.UtcNow : null };
        run.TargetId = batch.Id;
        db.AddRange(run, batch);
        await db.SaveChangesAsync();
        return (batch.Id, run.Id);
    }

    private async Task<(string, string)> StatesAsync(string batchId, string jobId)
    {
        using var scope = host.Services.CreateScope();
        var db = SystemDb(scope);
        return (await db.Set<Batch>().IgnoreQueryFilters().Where(b => b.Id == batchId).Select(b => b.Status).FirstAsync(),
                await db.Set<JobRun>().IgnoreQueryFilters().Where(r => r.Id == jobId).Select(r => r.Status).FirstAsync());
    }

    [Fact]
    public async Task Duplicate_headers_and_latin1_through_the_api()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("Encodings")));
        using var tmp = TestData.NewTempDir();
        var dup = Path.Combine(tmp.Path, "dup.csv");
        await File.WriteAllTextAsync(dup, "id,email,age,age,vip\nA,a@x.org,1,2,true\n");
        var d = await IngestAsync(api, ds, dup);
        Assert.Equal("failed", d["status"]!.GetValue<string>());
        Assert.Contains("'age' more than once", d["failureReason"]!.GetValue<string>());

        var latin1 = Path.Combine(tmp.Path, "latin1.csv");
        await File.WriteAllBytesAsync(latin1, Encoding.Latin1.GetBytes("id,email,age\nA,andré@x.org,1\nB,b@x.org,2\n"));
        var plain = await IngestAsync(api, ds, latin1, new() { ["errorThreshold"] = "60" });
        Assert.Equal("success", plain["status"]!.GetValue<string>());
        Assert.Equal((2L, 1L, 1L), (plain["recordsRead"]!.GetValue<long>(), plain["recordsWritten"]!.GetValue<long>(), plain["recordsFailed"]!.GetValue<long>()));
        var errors = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{plain.Id()}/errors"));
        var first = errors["items"]!.AsArray()[0]!;
        Assert.Equal(1, first["row"]!.GetValue<int>());
        Assert.Equal("INVALID_ENCODING", first["code"]!.GetValue<string>());

        var ok = await IngestAsync(api, ds, latin1, new() { ["encoding"] = "windows-1252" });
        Assert.Equal((2L, 0L), (ok["recordsWritten"]!.GetValue<long>(), ok["recordsFailed"]!.GetValue<long>()));
        var bad = await UploadAsync(api, ds, latin1, new() { ["encoding"] = "ebcdic" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("encoding", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_sql_service_hides_its_internals_and_answers_a_timeout_with_504()
    {
        using var scientist = host.Api(await host.KeyAsync("scientist"));
        var views = await scientist.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT view_name, sql FROM duckdb_views()" });
        Assert.Equal(HttpStatusCode.BadRequest, views.StatusCode);
        Assert.DoesNotContain(host.DataDirectory, await views.Content.ReadAsStringAsync());
        var slow = await scientist.PostAsJsonAsync("/api/v1/queries", new { sql = "SELECT count(*) FROM range(1000000000000) t WHERE hash(t.range) % 7 = 3", timeoutSeconds = 1 });
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        Assert.Equal("timeout", (await PortalHost.JsonAsync(slow))["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Hangfire_without_a_session_redirects_to_sign_in()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseUri };
        var r = await client.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/login", r.Headers.Location!.IsAbsoluteUri ? r.Headers.Location.PathAndQuery : r.Headers.Location.OriginalString);
    }

    [Fact]
    public async Task The_data_directory_and_its_files_are_for_the_service_user_only()
    {
        if (OperatingSystem.IsWindows()) return;
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("Perms")));
        using var tmp = TestData.NewTempDir();
        var file = Path.Combine(tmp.Path, "p.csv");
        await File.WriteAllTextAsync(file, "id,email,age\nA,a@x.org,1\n");
        var b = await IngestAsync(api, ds, file);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(host.DataDirectory) & others);
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(Path.Combine(host.DataDirectory, "catalog.db")) & others);
        var raw = Directory.EnumerateFiles(Path.Combine(host.DataDirectory), "p.csv", SearchOption.AllDirectories).First();
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(raw) & others);
        Assert.Equal("success", b["status"]!.GetValue<string>());
    }
}
