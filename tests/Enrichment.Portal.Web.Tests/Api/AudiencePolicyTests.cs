using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// An audience reads the profile through its merge policy: two datasets disagree about one attribute, two policies each
/// prefer one of them, and the same rule under each policy has other members (estimate = evaluated size for each, the
/// members' values as the profile API shows them under that policy, incremental evaluation after a batch too); a policy of
/// another sandbox or an unknown id is a 422 naming <c>mergePolicyId</c>.
/// </summary>
public sealed class AudiencePolicyTests(PortalHost host)
{
    private static async Task<(HttpStatusCode, JsonNode)> SendAsync(HttpClient api, HttpMethod method, string url, object body)
    {
        var r = await api.SendAsync(new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) });
        return (r.StatusCode, await PortalHost.JsonAsync(r));
    }

    private static async Task IngestAsync(HttpClient api, string datasetId, string tag, IEnumerable<int> people, Func<int, string> tier)
    {
        using var dir = TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "people.csv");
        await File.WriteAllTextAsync(csv, "id,email,age,vip,person.tier\n" + string.Concat(people.Select(i => $"C-{tag}-{i},p{i}.{tag}@example.com,{20 + i},false,{tier(i)}\n")));
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());
    }

    [Fact]
    public async Task The_same_rule_under_two_merge_policies_has_other_members_and_estimates_match_evaluations()
    {
        var sandbox = "audpol-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        var schemaId = (await CreateAsync(api, "/api/v1/schemas", BatchIngestionApiTests.PeopleSchema(Unique("Pol people")))).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).StatusCode);
        var datasets = new List<string>();
        foreach (var n in new[] { "Pol CRM", "Pol shop" })
        {
            var id = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique(n), schemaId })).Id();
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{id}/enable-profile", null)).StatusCode);
            datasets.Add(id);
        }
        var (crm, shop) = (datasets[0], datasets[1]);
        var people = Enumerable.Range(1, 20).ToList();
        // The CRM says gold for even i (10 people); the shop, written later, says gold only for i % 4 == 0 (5 people).
        await IngestAsync(api, crm, tag, people, i => i % 2 == 0 ? "gold" : "silver");
        await IngestAsync(api, shop, tag, people, i => i % 4 == 0 ? "gold" : "silver");

        async Task<string> PolicyAsync(HttpClient client, string name, string[] order)
        {
            var (s, p) = await SendAsync(client, HttpMethod.Post, "/api/v1/merge-policies", new { name = Unique(name), method = "dataset-precedence", datasetOrder = order, isDefault = false });
            Assert.True(s == HttpStatusCode.Created, p.ToJsonString());
            return p.Id();
        }
        var crmFirst = await PolicyAsync(api, "CRM first", [crm, shop]);
        var shopFirst = await PolicyAsync(api, "Shop first", [shop, crm]);

        var rule = new { attribute = "person.tier", op = "eq", value = "gold" };
        async Task<long> EstimateAsync(string? policy) =>
            (await PortalHost.JsonAsync(await api.PostAsJsonAsync("/api/v1/segments/estimate", new { rule, mergePolicyId = policy })))["size"]!.GetValue<long>();
        Assert.Equal(10, await EstimateAsync(crmFirst));
        Assert.Equal(5, await EstimateAsync(shopFirst));
        Assert.Equal(5, await EstimateAsync(null)); // the default (newest value wins): the shop's

        var (xs, x) = await SendAsync(api, HttpMethod.Post, "/api/v1/segments", new { name = Unique("Gold by CRM"), rule, mergePolicyId = crmFirst });
        Assert.True(xs == HttpStatusCode.Created, x.ToJsonString());
        Assert.Equal(crmFirst, x["mergePolicyId"]!.GetValue<string>());
        var (ys, y) = await SendAsync(api, HttpMethod.Post, "/api/v1/segments", new { name = Unique("Gold by shop"), rule, mergePolicyId = shopFirst });
        Assert.True(ys == HttpStatusCode.Created, y.ToJsonString());
        var (xId, yId) = (x.Id(), y.Id());
        var xe = await AudiencesApiTests.EvaluatedAsync(api, xId);
        var ye = await AudiencesApiTests.EvaluatedAsync(api, yId);
        Assert.Equal(10, xe["size"]!.GetValue<long>());
        Assert.Equal(5, ye["size"]!.GetValue<long>());
        Assert.Equal(crmFirst, xe["mergePolicyId"]!.GetValue<string>());

        // The members are the profiles whose tier is gold in the profile API under the audience's policy.
        async Task<HashSet<string>> MembersAsync(string id) =>
            (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{id}/members?limit=100")))["items"]!.AsArray().Select(m => m!["profileId"]!.GetValue<string>()).ToHashSet();
        var xMembers = await MembersAsync(xId);
        var onlyX = xMembers.Except(await MembersAsync(yId)).ToList();
        Assert.Equal(5, onlyX.Count);
        foreach (var (policy, tier) in new[] { (crmFirst, "gold"), (shopFirst, "silver") })
        {
            var view = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles/{onlyX[0]}?mergePolicyId={policy}"));
            Assert.Equal(tier, view["attributes"]!["person"]!["tier"]!.GetValue<string>());
        }

        // Incremental: the CRM now says silver for 2 and 4: they leave the CRM-first audience; the shop-first one keeps 4 (the shop says gold).
        await IngestAsync(api, crm, tag, [2, 4], _ => "silver");
        var xAfter = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{xId}"));
        Assert.Equal(8, xAfter["size"]!.GetValue<long>());
        Assert.Equal(8, await EstimateAsync(crmFirst));
        Assert.Equal(5, (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{yId}")))["size"]!.GetValue<long>());

        // Back to the default with an explicit null; a PATCH without the field keeps the policy.
        Assert.Equal(crmFirst, (await SendAsync(api, HttpMethod.Patch, $"/api/v1/segments/{xId}", new { description = "by CRM" })).Item2["mergePolicyId"]!.GetValue<string>());
        var (ps, patched) = await SendAsync(api, HttpMethod.Patch, $"/api/v1/segments/{yId}", new JsonObject { ["mergePolicyId"] = null });
        Assert.True(ps == HttpStatusCode.OK, patched.ToJsonString());
        Assert.Null(patched["mergePolicyId"]);

        // Another sandbox's policy or an unknown id: 422 naming the field; a number is not an id at all: 400 naming the field.
        using var other = host.Api(await host.KeyAsync("admin", sandbox + "-b"));
        var foreign = (await PortalHost.JsonAsync(await other.GetAsync("/api/v1/merge-policies")))["items"]![0]!["id"]!.GetValue<string>();
        foreach (var (bad, expected) in new (object, HttpStatusCode)[] { (foreign, HttpStatusCode.UnprocessableEntity), ("nope", HttpStatusCode.UnprocessableEntity), (42, HttpStatusCode.BadRequest) })
        {
            var (s1, b1) = await SendAsync(api, HttpMethod.Post, "/api/v1/segments", new { name = Unique("Bad policy"), rule, mergePolicyId = bad });
            Assert.True(s1 == expected, $"{bad}: {(int)s1} {b1.ToJsonString()}");
            Assert.NotNull(b1["errors"]!["mergePolicyId"]);
            var (s2, b2) = await SendAsync(api, HttpMethod.Patch, $"/api/v1/segments/{xId}", new { mergePolicyId = bad });
            Assert.True(s2 == expected, $"{bad}: {(int)s2} {b2.ToJsonString()}");
            Assert.NotNull(b2["errors"]!["mergePolicyId"]);
            var (s3, b3) = await SendAsync(api, HttpMethod.Post, "/api/v1/segments/estimate", new { rule, mergePolicyId = bad });
            Assert.True(s3 == expected, $"{bad}: {(int)s3} {b3.ToJsonString()}");
        }
    }
}
