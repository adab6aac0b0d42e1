using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// Audiences that name other audiences are evaluated after them (evaluate-all, the daily refresh's order), a cycle is refused
/// naming its audiences; a burst of concurrent "evaluate" / "run" requests starts exactly one job (the others 409); a PATCH
/// of a destination tells an explicit <c>rateLimit: null</c> (removes the limit) from a missing property (keeps it).
/// </summary>
public sealed class AudienceOrderAndRunGateTests(PortalHost host)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static async Task<(HttpStatusCode, JsonNode)> SendAsync(HttpClient api, HttpMethod method, string url, object body)
    {
        var r = await api.SendAsync(new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) });
        return (r.StatusCode, await PortalHost.JsonAsync(r));
    }

    private static async Task<string> SegmentAsync(HttpClient api, string name, object rule)
    {
        var (s, b) = await SendAsync(api, HttpMethod.Post, "/api/v1/segments", new { name, rule });
        Assert.True(s == HttpStatusCode.Created, b.ToJsonString());
        return b.Id();
    }

    private static Task<JsonNode> JobDoneAsync(HttpClient api, string jobId) =>
        PortalHost.PollAsync(api, $"/api/v1/jobs/{jobId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", Wait);

    [Fact]
    public void Dependency_order_puts_every_audience_after_the_ones_its_rule_names()
    {
        // Ids in reverse of the dependency order: C uses B uses A (and A has a relative window, so all three move with time).
        var a = ("z3", """{ "event": { "eventType": "purchase", "withinDays": 30 }, "op": "exists" }""");
        var b = ("z2", """{ "all": [ { "audience": "z3", "op": "in" }, { "attribute": "age", "op": "gt", "value": 1 } ] }""");
        var c = ("z1", """{ "not": { "audience": "z2", "op": "in" } }""");
        var d = ("z0", """{ "attribute": "age", "op": "gt", "value": 1 }""");
        Assert.Equal(["z3", "z2", "z1"], AudienceTimeWindows.Relative([c, d, b, a]));
        var all = AudienceTimeWindows.All([c, d, b, a]).ToList();
        Assert.Equal(4, all.Count);
        Assert.True(all.IndexOf("z3") < all.IndexOf("z2") && all.IndexOf("z2") < all.IndexOf("z1"), string.Join(",", all));
    }

    [Fact]
    public async Task Evaluate_all_runs_a_chain_created_in_reverse_in_dependency_order_and_a_cycle_is_refused_naming_it()
    {
        var sandbox = "audord-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        await AudiencesApiTests.PeopleAsync(api, tag, 30);

        // Created top first with placeholder rules (C, then B, then A), then linked: C <- B <- A. Names sort the wrong way too.
        var placeholder = new { attribute = "age", op = "gte", value = 0 };
        var cName = Unique("a top");
        var bName = Unique("m mid");
        var aName = Unique("z base");
        var c = await SegmentAsync(api, cName, placeholder);
        var b = await SegmentAsync(api, bName, placeholder);
        var a = await SegmentAsync(api, aName, new { attribute = "age", op = "gte", value = 30 });
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(api, HttpMethod.Patch, $"/api/v1/segments/{b}",
            new { rule = new { all = new object[] { new { audience = a, op = "in" }, new { attribute = "person.tier", op = "eq", value = "gold" } } } })).Item1);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(api, HttpMethod.Patch, $"/api/v1/segments/{c}",
            new { rule = new { all = new object[] { new { audience = b, op = "in" }, new { identity = "Email", op = "exists" } } } })).Item1);

        // A cycle (A in C) is refused at save time, naming the audiences on it.
        var (cs, cycle) = await SendAsync(api, HttpMethod.Patch, $"/api/v1/segments/{a}", new { rule = new { audience = c, op = "in" } });
        Assert.True(cs == HttpStatusCode.UnprocessableEntity, cycle.ToJsonString());
        var why = cycle["errors"]!.AsObject().First().Value![0]!.GetValue<string>();
        foreach (var n in new[] { aName, bName, cName }) Assert.Contains($"'{n}'", why);

        // Never evaluated before: had C gone before B (or B before A) it would find its base empty.
        var (es, job) = await SendAsync(api, HttpMethod.Post, "/api/v1/segments/evaluate-all", new { });
        Assert.True(es == HttpStatusCode.Accepted, job.ToJsonString());
        var done = await JobDoneAsync(api, job["jobId"]!.GetValue<string>());
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString());
        async Task<long> Size(string id) => (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{id}")))["size"]!.GetValue<long>();
        Assert.Equal(21, await Size(a)); // ages 30..50
        Assert.Equal(11, await Size(b)); // of those, even i (gold)
        Assert.Equal(7, await Size(c));  // of those, with an email (i % 3 != 0)
        // One size point each, in the order A, B, C.
        await using var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(null);
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        var points = await db.Set<AudienceSizePoint>().IgnoreQueryFilters().Where(p => p.AudienceId == a || p.AudienceId == b || p.AudienceId == c)
            .OrderBy(p => p.Id).Select(p => p.AudienceId).ToListAsync();
        Assert.Equal([a, b, c], points);
    }

    [Fact]
    public async Task Concurrent_evaluate_and_run_requests_start_exactly_one_job()
    {
        var sandbox = "audgate-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        await AudiencesApiTests.PeopleAsync(api, tag, 12);
        var segment = await SegmentAsync(api, Unique("Gate"), new { attribute = "person.tier", op = "eq", value = "gold" });
        var locks = host.Services.GetRequiredService<AudienceLocks>();
        await using var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(null);
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        var sandboxId = await db.Set<Audience>().IgnoreQueryFilters().Where(x => x.Id == segment).Select(x => x.SandboxId).FirstAsync();

        async Task<List<HttpStatusCode>> BurstAsync(string url)
        {
            var tasks = Enumerable.Range(0, 10).Select(_ => Task.Run(async () => (await api.PostAsync(url, null)).StatusCode)).ToList();
            return [.. await Task.WhenAll(tasks)];
        }

        // The evaluation waits for the sandbox's evaluation lock (held here), so the first job stays unfinished during the burst.
        List<HttpStatusCode> answers;
        using (await locks.AcquireAsync(sandboxId, CancellationToken.None))
            answers = await BurstAsync($"/api/v1/segments/{segment}/evaluate");
        Assert.Equal(1, answers.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(9, answers.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(1, await db.Set<JobRun>().IgnoreQueryFilters().CountAsync(j => j.Kind == AudienceEvaluationJob.Kind && j.TargetId == segment));
        var evaluation = await db.Set<JobRun>().IgnoreQueryFilters().Where(j => j.Kind == AudienceEvaluationJob.Kind && j.TargetId == segment).Select(j => j.Id).FirstAsync();
        Assert.Equal("succeeded", (await JobDoneAsync(api, evaluation))["status"]!.GetValue<string>());

        var (ds, dest) = await SendAsync(api, HttpMethod.Post, "/api/v1/destinations",
            new { name = Unique("Gate file"), type = "file", target = "gate-" + tag, format = "csv", mode = "full", segmentIds = new[] { segment }, identities = new[] { "CRMID" } });
        Assert.True(ds == HttpStatusCode.Created, dest.ToJsonString());
        var destId = dest.Id();
        // A destination's runs take turns on its run lock (held here): the first run stays running during the burst.
        await using (await locks.AcquireNamedAsync("run/destination/" + destId, db, CancellationToken.None))
            answers = await BurstAsync($"/api/v1/destinations/{destId}/run");
        Assert.Equal(1, answers.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(9, answers.Count(s => s == HttpStatusCode.Conflict));
        var runs = await db.Set<JobRun>().IgnoreQueryFilters().Where(j => j.Kind == DestinationRunJob.Kind && j.TargetId == destId).Select(j => j.Id).ToListAsync();
        Assert.Single(runs);
        Assert.Equal("succeeded", (await JobDoneAsync(api, runs[0]))["status"]!.GetValue<string>());
        var detail = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{destId}"));
        Assert.Single(detail["runs"]!.AsArray());
        // Once it is over, the next request starts a run again.
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/v1/destinations/{destId}/run", null)).StatusCode);
    }

    [Fact]
    public async Task Patch_of_a_destination_clears_the_rate_limit_with_an_explicit_null_and_keeps_it_when_absent()
    {
        var sandbox = "audrate-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        await AudiencesApiTests.PeopleAsync(api, tag, 3);
        var segment = await SegmentAsync(api, Unique("Rate"), new { attribute = "age", op = "gte", value = 0 });
        var (cs, hook) = await SendAsync(api, HttpMethod.Post, "/api/v1/destinations",
            new { name = Unique("Rate hook"), type = "webhook", target = "https://hooks.example.com/portal", segmentIds = new[] { segment }, rateLimit = 5 });
        Assert.True(cs == HttpStatusCode.Created, hook.ToJsonString());
        var id = hook.Id();
        Assert.Equal(5, hook["rateLimit"]!.GetValue<double>());

        async Task<JsonNode?> RateAsync() => (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{id}")))["destination"]!["rateLimit"];

        // A PATCH without the property keeps the limit.
        var (p1, _) = await SendAsync(api, HttpMethod.Patch, $"/api/v1/destinations/{id}", new { batchSize = 20 });
        Assert.Equal(HttpStatusCode.OK, p1);
        Assert.Equal(5, (await RateAsync())!.GetValue<double>());
        // Another value changes it; an explicit null removes it.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(api, HttpMethod.Patch, $"/api/v1/destinations/{id}", new { rateLimit = 2.5 })).Item1);
        Assert.Equal(2.5, (await RateAsync())!.GetValue<double>());
        var (p2, cleared) = await SendAsync(api, HttpMethod.Patch, $"/api/v1/destinations/{id}", new JsonObject { ["rateLimit"] = null });
        Assert.True(p2 == HttpStatusCode.OK, cleared.ToJsonString());
        Assert.Null(await RateAsync());
        Assert.Equal(20, (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{id}")))["destination"]!["batchSize"]!.GetValue<int>());
        // Still validated: 0 is refused.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await SendAsync(api, HttpMethod.Patch, $"/api/v1/destinations/{id}", new { rateLimit = 0 })).Item1);
    }
}
