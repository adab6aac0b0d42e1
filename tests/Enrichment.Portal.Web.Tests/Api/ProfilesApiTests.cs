using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// Superstore customers (profile) and orders (events) put into the lake as committed batches (ingestion is not wired
/// here yet) and run through the profile stage via <c>reprocess-profile</c>; then lookups, events, snapshot, privacy delete.
/// Works in a sandbox of its own so that the counts are exact.
/// </summary>
public sealed class ProfilesApiTests(PortalHost host)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Superstore_profiles_stitch_lookup_events_reprocess_snapshot_and_privacy_delete()
    {
        var sandboxName = "prof-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandboxName));
        var sandboxId = await SandboxIdAsync(sandboxName);
        var csv = Lit(TestData.Decompressed("superstore/superstore.csv.gz"));

        var customersSchema = (await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("Superstore customers"), @class = "profile",
            fields = new object[]
            {
                new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "person.name", type = "string" },
                new { path = "segment", type = "string" },
                new { path = "region", type = "string" },
            },
        })).Id();
        var ordersSchema = (await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("Superstore orders"), @class = "event",
            fields = new object[]
            {
                new { path = "timestamp", type = "datetime", required = true },
                new { path = "eventType", type = "string", required = true },
                new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "order.id", type = "string" },
                new { path = "commerce.sales", type = "number" },
            },
        })).Id();
        foreach (var s in new[] { customersSchema, ordersSchema })
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{s}/enable-profile", null)).StatusCode);
        var customers = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Superstore customers"), schemaId = customersSchema })).Id();
        var orders = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Superstore orders"), schemaId = ordersSchema })).Id();
        foreach (var d in new[] { customers, orders })
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{d}/enable-profile", null)).StatusCode);

        var customersFile = Commit(sandboxId, customers, "b-customers-1",
            $"""SELECT DISTINCT "Customer ID" AS customerId, "Customer Name" AS "person.name", Segment AS segment, Region AS region FROM read_csv({csv}) ORDER BY 1, 4""");
        var ordersFile = Commit(sandboxId, orders, "b-orders-1",
            $"""SELECT CAST("Order Date" AS TIMESTAMP) AS "timestamp", 'order' AS eventType, "Customer ID" AS customerId, "Order ID" AS "order.id", Sales AS "commerce.sales" FROM read_csv({csv})""");

        await ReprocessAsync(api, customers);
        await ReprocessAsync(api, orders);
        var stats = await GetJsonAsync(api, "/api/v1/profiles/stats");
        Assert.Equal(793, stats["profiles"]!.GetValue<long>());
        Assert.Equal(793, stats["identities"]!.GetValue<long>());
        Assert.Equal(9994, stats["events"]!.GetValue<long>());
        Assert.Equal(0, stats["graphsOverLimit"]!.GetValue<long>());

        // Lookup by identity and by profile id give the same profile.
        var claire = await GetJsonAsync(api, "/api/v1/profiles?namespace=CRMID&id=CG-12520");
        var pid = claire["profileId"]!.GetValue<string>();
        Assert.Equal("Claire Gute", claire["attributes"]!["person"]!["name"]!.GetValue<string>());
        Assert.Equal(customers, claire["provenance"]!["segment"]!.GetValue<string>());
        var byId = await GetJsonAsync(api, $"/api/v1/profiles/{pid}");
        Assert.Equal(claire.ToJsonString(), byId.ToJsonString());
        Assert.Contains(claire["identities"]!.AsArray(), i => i!["namespace"]!.GetValue<string>() == "CRMID" && i["id"]!.GetValue<string>() == "CG-12520");
        var graph = await GetJsonAsync(api, $"/api/v1/profiles/{pid}/graph");
        Assert.Single(graph["nodes"]!.AsArray());

        // Unknown identity: 404 problem.
        var unknown = await api.GetAsync("/api/v1/profiles?namespace=CRMID&id=NOPE-00000");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("/api/v1/profiles?namespace=CRMID")).StatusCode);

        // Events newest first, filtered by type.
        var expected = Convert.ToInt32(DuckScalar($"""SELECT count(*) FROM read_csv({csv}) WHERE "Customer ID" = 'CG-12520'"""));
        var events = (await GetJsonAsync(api, $"/api/v1/profiles/{pid}/events?eventType=order&limit=1000"))["items"]!.AsArray();
        Assert.Equal(expected, events.Count);
        var times = events.Select(e => e!["timestamp"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(times.OrderByDescending(t => t).ToList(), times);
        Assert.Empty((await GetJsonAsync(api, $"/api/v1/profiles/{pid}/events?eventType=nothing"))["items"]!.AsArray());

        // Re-processing changes nothing.
        await ReprocessAsync(api, customers);
        await ReprocessAsync(api, orders);
        Assert.Equal(stats.ToJsonString(), (await GetJsonAsync(api, "/api/v1/profiles/stats")).ToJsonString());
        Assert.Equal(claire.ToJsonString(), (await GetJsonAsync(api, "/api/v1/profiles?namespace=CRMID&id=CG-12520")).ToJsonString());

        // The stage API the ingestion hook calls: timings, idempotent; a dataset not enabled for profile is skipped (and 422 on reprocess).
        var plain = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Not for profile"), schemaId = customersSchema })).Id();
        Commit(sandboxId, plain, "b1", $"""SELECT DISTINCT "Customer ID" AS customerId FROM read_csv({csv})""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await api.PostAsync($"/api/v1/datasets/{plain}/reprocess-profile", null)).StatusCode);
        await using (var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(sandboxId))
        {
            var stage = scope.ServiceProvider.GetRequiredService<Enrichment.Portal.Core.Profiles.ProfileStage>();
            var again = await stage.ApplyCommittedBatchAsync(customers, "b-customers-1", TestContext.Current.CancellationToken);
            Assert.False(again.Skipped);
            var rows = Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(customersFile)})"));
            Assert.Equal((rows, 0L, 0L), (again.Result!.Records, again.Result.ProfilesCreated, again.Result.ProfilesUpdated));
            Assert.True(again.IdentityStage > TimeSpan.Zero && again.ProfileStage > TimeSpan.Zero);
            var skipped = await stage.ApplyCommittedBatchAsync(plain, "b1", TestContext.Current.CancellationToken);
            Assert.True(skipped.Skipped);
            Assert.Null(skipped.Result);
        }
        Assert.Equal(stats.ToJsonString(), (await GetJsonAsync(api, "/api/v1/profiles/stats")).ToJsonString());

        // Merge policies: the default exists; a precedence policy can be added and used for a lookup.
        var policies = (await GetJsonAsync(api, "/api/v1/merge-policies"))["items"]!.AsArray();
        Assert.Single(policies, p => p!["isDefault"]!.GetValue<bool>());
        var precedence = await CreateAsync(api, "/api/v1/merge-policies", new { name = "Customers first", method = "dataset-precedence", datasetOrder = new[] { customers, orders }, isDefault = false });
        var viaPolicy = await GetJsonAsync(api, $"/api/v1/profiles?namespace=CRMID&id=CG-12520&mergePolicyId={precedence.Id()}");
        Assert.Equal(pid, viaPolicy["profileId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/profiles?namespace=CRMID&id=CG-12520&mergePolicyId=nope")).StatusCode);

        // Snapshot: a system dataset with one row per profile.
        var snapJob = await AcceptedJobAsync(await api.PostAsync("/api/v1/profiles/snapshot", null));
        await WaitJobAsync(api, snapJob);
        var system = (await GetJsonAsync(api, "/api/v1/datasets?system=true"))["items"]!.AsArray();
        var snapshot = Assert.Single(system, d => d!["name"]!.GetValue<string>().StartsWith("Profile-Snapshot-Export-"))!;
        Assert.Equal(793, snapshot["recordCount"]!.GetValue<long>());
        var snapGlob = Lit(Path.Combine(host.DataDirectory, "lake", sandboxId, snapshot.Id(), "*", "part-*.parquet"));
        Assert.Equal(793L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({snapGlob})")));
        await WaitJobAsync(api, await AcceptedJobAsync(await api.PostAsync("/api/v1/profiles/snapshot", null)));
        Assert.Equal(793L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(await SnapshotTableGlobAsync(sandboxId))})")));

        // Roles and sandboxes: a marketer reads but cannot delete; another sandbox does not see the profile.
        using var marketer = host.Api(await host.KeyAsync("marketer", sandboxName));
        Assert.Equal(HttpStatusCode.OK, (await marketer.GetAsync($"/api/v1/profiles/{pid}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketer.DeleteAsync("/api/v1/profiles?namespace=CRMID&id=CG-12520")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await marketer.PostAsync("/api/v1/profiles/snapshot", null)).StatusCode);
        using var other = host.Api(await host.KeyAsync("admin", "prof-other"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/profiles/{pid}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/v1/profiles?namespace=CRMID&id=CG-12520")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync("/api/v1/profiles?namespace=CRMID&id=CG-12520")).StatusCode);

        // Privacy delete: the profile, its events and its lake rows are gone; others stay.
        var delJob = await AcceptedJobAsync(await api.DeleteAsync("/api/v1/profiles?namespace=CRMID&id=cg-12520 ".Replace("cg", "CG")));
        await WaitJobAsync(api, delJob);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/profiles?namespace=CRMID&id=CG-12520")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/profiles/{pid}")).StatusCode);
        Assert.Equal(792, (await GetJsonAsync(api, "/api/v1/profiles/stats"))["profiles"]!.GetValue<long>());
        Assert.Equal(0L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(customersFile)}) WHERE customerId = 'CG-12520'")));
        Assert.Equal(0L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(ordersFile)}) WHERE customerId = 'CG-12520'")));
        Assert.Equal(9994L - expected, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(ordersFile)})")));
        Assert.Equal(0L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({snapGlob}) WHERE profileId = '{pid}'")));
        var audit = await AuditAsync(sandboxId);
        Assert.Contains(audit, a => a.Action == "profile.privacy-delete" && a.Target == pid);
        Assert.DoesNotContain(audit, a => (a.Detail ?? "").Contains("CG-12520", StringComparison.OrdinalIgnoreCase) || (a.Target ?? "").Contains("CG-12520", StringComparison.OrdinalIgnoreCase));

        // Deleting the orders dataset removes its events from the profiles.
        Assert.Equal(HttpStatusCode.Accepted, (await api.DeleteAsync($"/api/v1/datasets/{orders}")).StatusCode);
        var afterDelete = await GetJsonAsync(api, "/api/v1/profiles/stats");
        Assert.Equal(0, afterDelete["events"]!.GetValue<long>());
        Assert.Equal(792, afterDelete["profiles"]!.GetValue<long>());

        // A later snapshot does not contain the person.
        await WaitJobAsync(api, await AcceptedJobAsync(await api.PostAsync("/api/v1/profiles/snapshot", null)));
        Assert.Equal(0L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({snapGlob}) WHERE \"identity.CRMID\" = 'CG-12520'")));

        // The daily schedule is registered at start and enqueues a snapshot job in every sandbox with profiles.
        using (var connection = host.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection())
            Assert.Contains(Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection),
                r => r.Id == Enrichment.Portal.Core.Profiles.ProfileSnapshotScheduler.RecurringId && r.Cron == "0 2 * * *");
        var before = (await GetJsonAsync(api, "/api/v1/jobs?kind=profile-snapshot"))["items"]!.AsArray().Count;
        using (var scope = host.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<Enrichment.Portal.Core.Profiles.ProfileSnapshotScheduler>().EnqueueAllAsync(CancellationToken.None);
        var scheduled = (await GetJsonAsync(api, "/api/v1/jobs?kind=profile-snapshot"))["items"]!.AsArray();
        Assert.Equal(before + 1, scheduled.Count);
        await WaitJobAsync(api, scheduled[0]!["id"]!.GetValue<string>());
    }

    private string Commit(string sandboxId, string datasetId, string batchId, string select)
    {
        var folder = Path.Combine(host.DataDirectory, "lake", sandboxId, datasetId, batchId);
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "part-00000.parquet");
        Duck($"COPY ({select}) TO {Lit(file)} (FORMAT parquet)");
        File.WriteAllText(Path.Combine(folder, "_SUCCESS"), "");
        return file;
    }

    private static async Task ReprocessAsync(HttpClient api, string datasetId)
    {
        var response = await api.PostAsync($"/api/v1/datasets/{datasetId}/reprocess-profile", null);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, json.ToJsonString());
        var jobs = json["jobIds"]!.AsArray();
        Assert.Single(jobs);
        foreach (var j in jobs) await WaitJobAsync(api, j!.GetValue<string>());
    }

    private static async Task<string> AcceptedJobAsync(HttpResponseMessage response)
    {
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {json.ToJsonString()}");
        return json["jobId"]!.GetValue<string>();
    }

    private static async Task WaitJobAsync(HttpClient api, string jobId)
    {
        var job = await PortalHost.PollAsync(api, $"/api/v1/jobs/{jobId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", JobTimeout);
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
    }

    private static async Task<JsonNode> GetJsonAsync(HttpClient api, string url)
    {
        var response = await api.GetAsync(url);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {json.ToJsonString()}");
        return json;
    }

    /// <summary>The files of the query service's <c>profile_snapshot</c> table (the newest snapshot only).</summary>
    private async Task<string> SnapshotTableGlobAsync(string sandboxId)
    {
        await using var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(sandboxId);
        var tables = await scope.ServiceProvider.GetRequiredService<Enrichment.Portal.Core.Lake.LakeCatalog>().QueryTablesAsync();
        var snapshot = Assert.Single(tables, t => t.Name == "profile_snapshot");
        return Path.Combine(Path.GetDirectoryName(Assert.Single(snapshot.Files))!, "*.parquet");
    }

    private async Task<string> SandboxIdAsync(string name)
    {
        using var scope = host.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<CatalogDb>().Set<Sandbox>().Where(s => s.Name == name).Select(s => s.Id).SingleAsync();
    }

    private async Task<List<Enrichment.Portal.Core.Audit.AuditEntry>> AuditAsync(string sandboxId)
    {
        using var scope = host.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<CatalogDb>().Set<Enrichment.Portal.Core.Audit.AuditEntry>().IgnoreQueryFilters()
            .Where(a => a.SandboxId == sandboxId).ToListAsync();
    }

    private static string Lit(string s) => "'" + s.Replace("'", "''") + "'";

    private static void Duck(string sql)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static object? DuckScalar(string sql)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }
}
