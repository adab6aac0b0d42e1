using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>Bring your own scores: a CSV computed elsewhere lands in the profile's insights map through the normal ingestion path.</summary>
public sealed class ByoScoresApiTests(PortalHost host)
{
    private static bool Final(JsonNode b) => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned";

    private static async Task<HttpResponseMessage> ImportAsync(HttpClient api, string csv, object? import, string fileName = "scores.csv")
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(content, "file", fileName);
        if (import is not null) form.Add(new StringContent(import as string ?? JsonSerializer.Serialize(import)), "import");
        return await api.PostAsync("/api/v1/insights/imports", form);
    }

    private static async Task<JsonNode> ImportedAsync(HttpClient api, string csv, object import)
    {
        var response = await ImportAsync(api, csv, import);
        var body = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {body.ToJsonString()}");
        Assert.Equal(body["id"]!.GetValue<string>(), body["batchId"]!.GetValue<string>());
        return await PortalHost.PollAsync(api, $"/api/v1/batches/{body["batchId"]!.GetValue<string>()}", Final);
    }

    /// <summary>A profile-enabled customer dataset with a few people, so imported scores land on existing profiles.</summary>
    private static async Task<string> PeopleAsync(HttpClient api, string tag, int count)
    {
        var schemaId = (await CreateAsync(api, "/api/v1/schemas", BatchIngestionApiTests.PeopleSchema(Unique("BYO people")))).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).StatusCode);
        var datasetId = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("BYO people"), schemaId })).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).StatusCode);
        using var dir = TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "people.csv");
        await File.WriteAllTextAsync(csv, "id,email,age,vip,person.tier\n" +
            string.Concat(Enumerable.Range(1, count).Select(i => $"C-{tag}-{i},p{i}.{tag}@example.com,{20 + i},false,gold\n")));
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        return datasetId;
    }

    [Fact]
    public async Task Byo_scores_from_a_csv_land_in_the_insights_map_and_two_names_coexist_on_a_looked_up_profile()
    {
        using var api = host.Api();
        var tag = Guid.NewGuid().ToString("N")[..8];
        await PeopleAsync(api, tag, 3);
        var churn = "churn-" + tag;
        var clv = "clv v1-2 " + tag; // spaces and '-' in a name stay one key of the map

        var churnBatch = await ImportedAsync(api,
            "customer_id,churn_probability,segment,scored\n" +
            $"C-{tag}-1,0.82,At risk,2026-01-05T10:00:00Z\n" +
            $"C-{tag}-2,0.10,Loyal,2026-01-05T10:00:00Z\n",
            new { name = churn, identity = new { column = "customer_id", @namespace = "CRMID" },
                  fields = new Dictionary<string, string> { ["churn_probability"] = "score", ["segment"] = "segment" },
                  scoredAtColumn = "scored", modelVersion = "notebook-v3" });
        Assert.Equal("success", churnBatch["status"]!.GetValue<string>());
        Assert.Equal(2, churnBatch["recordsWritten"]!.GetValue<long>());
        var stages = churnBatch["stages"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("validate", stages);
        Assert.Contains("profile", stages);

        // A second name from another file: the email column is the identity this time; no scoredAt column (upload time).
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var clvBatch = await ImportedAsync(api,
            "email,predicted_value,favourites\n" +
            $"p1.{tag}@example.com,412.5,shoes|bags|hats\n",
            new { name = clv, identity = new { column = "email", @namespace = "Email" },
                  fields = new Dictionary<string, string> { ["predicted_value"] = "value", ["favourites"] = "top" } });
        Assert.Equal("success", clvBatch["status"]!.GetValue<string>());

        var profile = await PortalHost.PollAsync(api, $"/api/v1/profiles?namespace=CRMID&id=C-{tag}-1",
            p => p["insights"]?[churn] is not null && p["insights"]?[clv] is not null, TimeSpan.FromSeconds(30));
        var c = profile["insights"]![churn]!;
        Assert.Equal(0.82, c["score"]!.GetValue<double>(), 6);
        Assert.Equal("At risk", c["segment"]!.GetValue<string>());
        Assert.Equal("notebook-v3", c["modelVersion"]!.GetValue<string>());
        Assert.Equal(new DateTimeOffset(2026, 1, 5, 10, 0, 0, TimeSpan.Zero), DateTimeOffset.Parse(c["scoredAt"]!.GetValue<string>()));
        var v = profile["insights"]![clv]!;
        Assert.Equal(412.5, v["value"]!.GetValue<double>(), 6);
        Assert.Equal(["shoes", "bags", "hats"], v["top"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray());
        Assert.Equal("external", v["modelVersion"]!.GetValue<string>());
        Assert.True(DateTimeOffset.Parse(v["scoredAt"]!.GetValue<string>()) >= before);
        // Insights are not attributes.
        Assert.Null(profile["attributes"]!["insights"]);
        Assert.Equal(21, profile["attributes"]!["age"]!.GetValue<int>());

        // A new import of the same name replaces that name's values (and leaves the other name alone).
        var again = await ImportedAsync(api, "customer_id,churn_probability\n" + $"C-{tag}-1,0.55\n",
            new { name = churn, identity = new { column = "customer_id", @namespace = "CRMID" }, fields = new Dictionary<string, string> { ["churn_probability"] = "score" } });
        Assert.Equal("success", again["status"]!.GetValue<string>());
        Assert.Equal(churnBatch["datasetId"]!.GetValue<string>(), again["datasetId"]!.GetValue<string>());
        var updated = await PortalHost.PollAsync(api, $"/api/v1/profiles?namespace=CRMID&id=C-{tag}-1",
            p => p["insights"]?[churn]?["score"]?.GetValue<double>() == 0.55, TimeSpan.FromSeconds(30));
        Assert.Null(updated["insights"]![churn]!["segment"]);
        Assert.Equal(412.5, updated["insights"]![clv]!["value"]!.GetValue<double>(), 6);

        // The import's dataset is an ordinary profile-enabled dataset, listed by the imports endpoint.
        var list = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/insights/imports"));
        Assert.Contains(list["items"]!.AsArray(), i => i!["name"]!.GetValue<string>() == churn);
        var ds = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{churnBatch["datasetId"]!.GetValue<string>()}"));
        Assert.True(ds["profileEnabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Byo_scores_reject_bad_rows_with_their_row_numbers_and_reasons()
    {
        using var api = host.Api();
        var tag = Guid.NewGuid().ToString("N")[..8];
        await PeopleAsync(api, tag, 40);
        var name = "risk " + tag;
        var rows = Enumerable.Range(1, 40).Select(i => $"C-{tag}-{i},{(i % 10) / 10.0:0.0},{i}").ToList();
        rows[4] = $"C-{tag}-5,high,5";      // row 5: not a number
        rows[11] = $"C-{tag}-12,1.7,12";    // row 12: a score outside 0..1
        rows[29] = $",0.3,30";              // row 30: no identity
        var batch = await ImportedAsync(api, "id,p,eng\n" + string.Join("\n", rows) + "\n",
            new { name, identity = new { column = "id", @namespace = "CRMID" }, fields = new Dictionary<string, string> { ["p"] = "score", ["eng"] = "engagement" }, errorThreshold = 10 });
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        Assert.Equal(37, batch["recordsWritten"]!.GetValue<long>());
        Assert.Equal(3, batch["recordsFailed"]!.GetValue<long>());

        var errors = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{batch["id"]!.GetValue<string>()}/errors"));
        var byRow = errors["items"]!.AsArray().GroupBy(e => e!["row"]!.GetValue<long>()).ToDictionary(g => g.Key, g => g.Select(e => e!["message"]!.GetValue<string>()).ToList());
        Assert.Equal([5L, 12L, 30L], byRow.Keys.Order().ToArray());
        Assert.Contains(byRow[5], m => m.Contains("score (column 'p'): 'high' is not a number"));
        Assert.Contains(byRow[12], m => m.Contains("not between 0 and 1"));
        Assert.Contains(errors["items"]!.AsArray(), e => e!["row"]!.GetValue<long>() == 30 && e["code"]!.GetValue<string>() == "REQUIRED_MISSING");

        var good = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id=C-{tag}-7"));
        Assert.Equal(0.7, good["insights"]![name]!["score"]!.GetValue<double>(), 6);
        Assert.Equal(7, good["insights"]![name]!["engagement"]!.GetValue<double>(), 6);
        var bad = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id=C-{tag}-5"));
        Assert.Null(bad["insights"]?[name]);
    }

    [Fact]
    public async Task Byo_scores_answer_4xx_for_bad_requests()
    {
        using var api = host.Api();
        const string csv = "customer_id,p\nC-1,0.5\n";
        var ok = new Dictionary<string, string> { ["p"] = "score" };
        async Task Expect(HttpStatusCode status, HttpResponseMessage r, string field)
        {
            var body = await PortalHost.JsonAsync(r);
            Assert.True(r.StatusCode == status, $"{(int)r.StatusCode} {body.ToJsonString()}");
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            if (status is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity)
                Assert.True(body["errors"]?[field] is not null, $"no error for {field}: {body.ToJsonString()}");
        }

        // Bad name, unknown columns, reserved and invalid field names, no import JSON, malformed JSON, no file.
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, new { name = "bad/name", identity = new { column = "customer_id", @namespace = "CRMID" }, fields = ok }), "name");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, new { name = "x", identity = new { column = "nope", @namespace = "CRMID" }, fields = ok }), "identity.column");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, new { name = "x", identity = new { column = "customer_id", @namespace = "CRMID" }, fields = new Dictionary<string, string> { ["q"] = "score" } }), "fields");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, new { name = "x", identity = new { column = "customer_id", @namespace = "CRMID" }, fields = new Dictionary<string, string> { ["p"] = "scoredAt" } }), "fields");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, new { name = "x", identity = new { column = "customer_id", @namespace = "CRMID" }, fields = new Dictionary<string, string> { ["p"] = "my score!" } }), "fields");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, new { name = "x", identity = new { column = "customer_id", @namespace = "CRMID" }, fields = new Dictionary<string, string>() }), "fields");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, null), "import");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, csv, "{ not json"), "import");
        using (var empty = new MultipartFormDataContent { { new StringContent("{}"), "import" } })
            await Expect(HttpStatusCode.BadRequest, await api.PostAsync("/api/v1/insights/imports", empty), "file");
        await Expect(HttpStatusCode.BadRequest, await ImportAsync(api, "[{\"a\":1}]", new { name = "x", identity = new { column = "a", @namespace = "CRMID" }, fields = ok }, "scores.json"), "file");

        // Unknown namespace: 422. A name a model owns: 409.
        await Expect(HttpStatusCode.UnprocessableEntity, await ImportAsync(api, csv, new { name = "x" + Guid.NewGuid().ToString("N")[..6], identity = new { column = "customer_id", @namespace = "NoSuchNs" }, fields = ok }), "identity.namespace");
        var modelName = Unique("owned");
        var model = await api.PostAsJsonAsync("/api/v1/models", new { name = modelName, recipe = "segmentation", source = new { snapshot = true } });
        Assert.Equal(HttpStatusCode.Created, model.StatusCode);
        await Expect(HttpStatusCode.Conflict, await ImportAsync(api, csv, new { name = modelName, identity = new { column = "customer_id", @namespace = "CRMID" }, fields = ok }), "name");

        // Roles: a viewer or a marketer cannot import; a scientist can.
        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await ImportAsync(viewer, csv, new { name = "x", identity = new { column = "customer_id", @namespace = "CRMID" }, fields = ok })).StatusCode);
        using var scientist = host.Api(await host.KeyAsync("scientist"));
        var started = await ImportedAsync(scientist, csv, new { name = "sci " + Guid.NewGuid().ToString("N")[..6], identity = new { column = "customer_id", @namespace = "CRMID" }, fields = ok });
        Assert.Equal("success", started["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Byo_preview_suggests_the_identity_column_and_a_score_for_numbers_between_0_and_1()
    {
        using var api = host.Api();
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("email,propensity,lifetime_value,cluster,scored_at\na@x.com,0.2,100.5,3,2026-01-01\nb@x.com,0.9,20,1,2026-01-01\n")), "file", "propensity scores.csv");
        var preview = await PortalHost.JsonAsync(await api.PostAsync("/api/v1/insights/imports/preview", form));
        Assert.Equal(5, preview["columns"]!.AsArray().Count);
        var s = preview["suggestion"]!;
        Assert.Equal("email", s["identityColumn"]!.GetValue<string>());
        Assert.Equal("Email", s["namespace"]!.GetValue<string>());
        Assert.Equal("score", s["fields"]!["propensity"]!.GetValue<string>());
        Assert.Equal("value", s["fields"]!["lifetime_value"]!.GetValue<string>());
        Assert.Equal("segment", s["fields"]!["cluster"]!.GetValue<string>());
        Assert.Equal("scored_at", s["scoredAtColumn"]!.GetValue<string>());
        Assert.Equal("propensity scores", s["name"]!.GetValue<string>());
    }
}
