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

/// <summary>
/// Audiences through the API in a sandbox of their own: 422s naming the part of a bad rule, estimate = evaluated size,
/// members and the profile's segments, incremental membership after a streamed record and after scores land
/// (a score import: the same batch path a scoring run's output takes), the guardrail count.
/// </summary>
public sealed class AudiencesApiTests(PortalHost host)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static bool Final(JsonNode b) => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned";

    internal static async Task<string> PeopleAsync(HttpClient api, string tag, int count)
    {
        var schemaId = (await CreateAsync(api, "/api/v1/schemas", BatchIngestionApiTests.PeopleSchema(Unique("Aud people")))).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).StatusCode);
        var datasetId = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Aud people"), schemaId })).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).StatusCode);
        using var dir = TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "people.csv");
        // Ages 21..20+count; tiers alternate gold / silver; every third person has no email.
        await File.WriteAllTextAsync(csv, "id,email,age,vip,person.tier\n" + string.Concat(Enumerable.Range(1, count).Select(i =>
            $"C-{tag}-{i},{(i % 3 == 0 ? "" : $"p{i}.{tag}@example.com")},{20 + i},{(i % 4 == 0 ? "true" : "false")},{(i % 2 == 0 ? "gold" : "silver")}\n")));
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        return datasetId;
    }

    private static async Task<(HttpStatusCode, JsonNode)> PostAsync(HttpClient api, string url, object body)
    {
        var r = await api.PostAsJsonAsync(url, body);
        return (r.StatusCode, await PortalHost.JsonAsync(r));
    }

    internal static async Task<JsonNode> EvaluatedAsync(HttpClient api, string id)
    {
        var (status, job) = await PostAsync(api, $"/api/v1/segments/{id}/evaluate", new { });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var done = await PortalHost.PollAsync(api, $"/api/v1/jobs/{job["jobId"]!.GetValue<string>()}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", Wait);
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString());
        return await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{id}"));
    }

    private static async Task<List<string>> SegmentsOfAsync(HttpClient api, string crmId) =>
        (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id={crmId}")))["segments"]!.AsArray()
            .Select(s => s!["name"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Bad_rules_are_422s_naming_the_part_at_fault()
    {
        var sandbox = "aud422-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        await PeopleAsync(api, tag, 3);

        async Task Refused(object rule, string part, string words)
        {
            var (status, body) = await PostAsync(api, "/api/v1/segments", new { name = Unique("Bad"), rule });
            Assert.True(status == HttpStatusCode.UnprocessableEntity, $"{(int)status} {body.ToJsonString()}");
            Assert.True(body["errors"]?[part] is not null, $"expected errors[{part}] in {body.ToJsonString()}");
            Assert.Contains(words, body["errors"]![part]![0]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        }

        await Refused(new { all = new object[] { new { attribute = "age", op = "gt", value = 30 }, new { attribute = "shoeSize", op = "gt", value = 40 } } },
            "rule.all[1].attribute", "unknown attribute 'shoeSize'");
        await Refused(new { all = new object[] { new { attribute = "age", op = "gt", value = "old" } } }, "rule.all[0].value", "is a number");
        await Refused(new { any = new object[] { new { not = new { attribute = "person.tier", op = "gt", value = 3 } } } }, "rule.any[0].not.value", "is text");
        await Refused(new { attribute = "age", op = "around", value = 3 }, "rule.op", "unknown operator");
        await Refused(new { attribute = "insights.nomodel.score", op = "gt", value = 0.5 }, "rule.attribute", "unknown insight");
        await Refused(new { identity = "Passport", op = "exists" }, "rule.identity", "unknown identity namespace");
        await Refused(new { @event = new { eventType = "purchase", withinDays = -3 }, op = "none" }, "rule.event.withinDays", "withinDays");
        await Refused(new { audience = "nope", op = "in" }, "rule.audience", "no audience");
        await Refused(new { all = Array.Empty<object>() }, "rule.all", "at least one");
        await Refused(new { attribute = "vip", op = "gt", value = true }, "rule.op", "true or false");
        await Refused(new { attribute = "age", op = "between", value = new[] { 40, 30 } }, "rule.value", "low <= high");
        // The estimate checks the same way; a missing rule is a 422 too.
        var (es, eb) = await PostAsync(api, "/api/v1/segments/estimate", new { rule = new { attribute = "age", op = "eq", value = "x" } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, es);
        Assert.NotNull(eb["errors"]!["rule.value"]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await PostAsync(api, "/api/v1/segments", new { name = "x" })).Item1);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(api, "/api/v1/segments", new { rule = new { attribute = "age", op = "exists" } })).Item1);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsync("/api/v1/segments/nope/evaluate", null)).StatusCode);
    }

    [Fact]
    public async Task Estimate_equals_evaluated_size_and_memberships_follow_streamed_records_and_imported_scores()
    {
        var sandbox = "aud-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        var people = await PeopleAsync(api, tag, 30);

        // Gold tier, 30 or older, with an email: i even, 20+i >= 30 (i >= 10), i % 3 != 0 -> i in {10,14,16,20,22,26,28} = 7.
        var rule = new JsonObject
        {
            ["all"] = new JsonArray(
                new JsonObject { ["attribute"] = "person.tier", ["op"] = "eq", ["value"] = "gold" },
                new JsonObject { ["attribute"] = "age", ["op"] = ">=", ["value"] = 30 },
                new JsonObject { ["identity"] = "Email", ["op"] = "exists" }),
        };
        var (es, estimate) = await PostAsync(api, "/api/v1/segments/estimate", new { rule, sample = 3 });
        Assert.Equal(HttpStatusCode.OK, es);
        Assert.Equal(7, estimate["size"]!.GetValue<long>());
        Assert.Equal(30, estimate["total"]!.GetValue<long>());
        Assert.Equal(7.0 / 30, estimate["share"]!.GetValue<double>(), 6);
        Assert.Equal(3, estimate["sample"]!.AsArray().Count);
        // The sample shows people by their identity (the first seen; CRMID and Email came in the same record: by namespace), not internal ids.
        Assert.All(estimate["members"]!.AsArray(), m => Assert.StartsWith($"CRMID: C-{tag}-", m!["identity"]!.GetValue<string>()));
        Assert.Equal("23.3 %", estimate["shareText"]!.GetValue<string>());
        // Value suggestions of the rule builder: the data's top values of a text attribute; none for a number.
        var tiers = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/segments/fields/values?path=person.tier"));
        Assert.Equal(["gold:15", "silver:15"], tiers["items"]!.AsArray().Select(v => $"{v!["value"]}:{v["count"]}"));
        Assert.Empty((await PortalHost.JsonAsync(await api.GetAsync("/api/v1/segments/fields/values?path=age")))["items"]!.AsArray());

        var name = Unique("Gold adults");
        var (cs, created) = await PostAsync(api, "/api/v1/segments", new { name, rule });
        Assert.True(cs == HttpStatusCode.Created, created.ToJsonString());
        var id = created.Id();
        Assert.Equal("new", created["status"]!.GetValue<string>());
        var evaluated = await EvaluatedAsync(api, id);
        Assert.Equal(estimate["size"]!.GetValue<long>(), evaluated["size"]!.GetValue<long>());
        Assert.NotNull(evaluated["evaluatedAt"]);
        Assert.Equal(7, evaluated["history"]!.AsArray().Last()!["size"]!.GetValue<long>());
        var members = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{id}/members?limit=5"));
        Assert.Equal(5, members["items"]!.AsArray().Count);
        var rest = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{id}/members?limit=5&cursor={members["nextCursor"]!.GetValue<string>()}"));
        Assert.Equal(2, rest["items"]!.AsArray().Count);
        Assert.Null(rest["nextCursor"]);

        // The profile API lists the audience with since when.
        var p10 = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id=C-{tag}-10"));
        var seg = Assert.Single(p10["segments"]!.AsArray())!;
        Assert.Equal(id, seg["id"]!.GetValue<string>());
        Assert.Equal(name, seg["name"]!.GetValue<string>());
        Assert.NotNull(seg["since"]);
        Assert.Empty(await SegmentsOfAsync(api, $"C-{tag}-11"));

        // Streamed records: person 14 (gold, 34, has an email) turns silver and leaves; person 8 (gold, 28) turns 31 and enters.
        var streamed = await api.PostAsJsonAsync($"/api/v1/collection/{people}",
            new object[]
            {
                new { id = $"C-{tag}-14", email = $"p14.{tag}@example.com", age = 34, vip = true, person = new { tier = "silver" } },
                new { id = $"C-{tag}-8", email = $"p8.{tag}@example.com", age = 31, vip = true, person = new { tier = "gold" } },
            });
        var streamedBody = await PortalHost.JsonAsync(streamed);
        Assert.True(streamed.StatusCode == HttpStatusCode.Accepted && streamedBody["accepted"]!.GetValue<int>() == 2, streamedBody.ToJsonString());
        await PortalHost.PollAsync(api, $"/api/v1/profiles?namespace=CRMID&id=C-{tag}-14", p => p["attributes"]!["person"]!["tier"]!.GetValue<string>() == "silver", Wait);
        await PortalHost.PollAsync(api, $"/api/v1/segments/{id}", s => s["size"]!.GetValue<long>() == 7
            && s["history"]!.AsArray().Count >= 2, Wait);
        await PortalHost.PollAsync(api, $"/api/v1/profiles?namespace=CRMID&id=C-{tag}-8", p => p["segments"]!.AsArray().Count == 1, Wait);
        Assert.Empty(await SegmentsOfAsync(api, $"C-{tag}-14"));
        var changes = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/segments/{id}/changes"));
        Assert.Contains(changes["items"]!.AsArray(), c => c!["change"]!.GetValue<string>() == "exited");

        // Scores land through a batch (as a scoring run's output does): an audience on the insight follows them.
        var model = "churn" + tag;
        await ImportScoresAsync(api, model, $"customer_id,p\nC-{tag}-1,0.91\nC-{tag}-2,0.15\nC-{tag}-3,0.75\n");
        var risky = new JsonObject { ["attribute"] = $"insights.{model}.score", ["op"] = "gt", ["value"] = 0.7 };
        var (rs, riskyAudience) = await PostAsync(api, "/api/v1/segments", new { name = Unique("Churn risk"), rule = risky });
        Assert.True(rs == HttpStatusCode.Created, riskyAudience.ToJsonString());
        Assert.Equal(2, (await EvaluatedAsync(api, riskyAudience.Id()))["size"]!.GetValue<long>());
        await ImportScoresAsync(api, model, $"customer_id,p\nC-{tag}-2,0.88\nC-{tag}-3,0.20\nC-{tag}-4,0.99\n");
        var after = await PortalHost.PollAsync(api, $"/api/v1/segments/{riskyAudience.Id()}", s => s["history"]!.AsArray().Count >= 2, Wait);
        Assert.Equal(3, after["size"]!.GetValue<long>()); // 1, 2, 4
        Assert.Contains(after["name"]!.GetValue<string>(), await SegmentsOfAsync(api, $"C-{tag}-4"));
        Assert.DoesNotContain(after["name"]!.GetValue<string>(), await SegmentsOfAsync(api, $"C-{tag}-3"));

        // A rule on another audience's membership; the guardrail counts the real audiences.
        var (ns, nested) = await PostAsync(api, "/api/v1/segments", new { name = Unique("Risky gold"), rule = new { all = new object[] { new { audience = id }, new { audience = riskyAudience.Id(), op = "in" } } } });
        Assert.Equal(HttpStatusCode.Created, ns);
        Assert.Equal(HttpStatusCode.Conflict, (await api.DeleteAsync($"/api/v1/segments/{id}")).StatusCode);
        var self = await api.PatchAsJsonAsync($"/api/v1/segments/{id}", new { rule = new { audience = nested.Id() } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, self.StatusCode);
        var guardrails = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/guardrails"));
        var audiences = guardrails["items"]!.AsArray().First(g => g!["name"]!.GetValue<string>() == "audiences per sandbox")!;
        Assert.Equal(3, audiences["current"]!.GetValue<long>());
    }

    private static async Task<JsonNode> RunDestinationAsync(HttpClient api, string destinationId)
    {
        var (status, job) = await PostAsync(api, $"/api/v1/destinations/{destinationId}/run", new { });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var done = await PortalHost.PollAsync(api, $"/api/v1/jobs/{job["jobId"]!.GetValue<string>()}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", Wait);
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString());
        var d = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{destinationId}"));
        return d["runs"]!.AsArray().First()!;
    }

    private static object? Duck(string sql)
    {
        using var c = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    [Fact]
    public async Task File_destinations_write_parquet_read_back_by_duckdb_and_csv_changes_once_each()
    {
        var sandbox = "audfile-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        var people = await PeopleAsync(api, tag, 30);
        var (_, created) = await PostAsync(api, "/api/v1/segments", new { name = Unique("Gold"), rule = new { attribute = "person.tier", op = "eq", value = "gold" } });
        var id = created.Id();
        Assert.Equal(15, (await EvaluatedAsync(api, id))["size"]!.GetValue<long>());

        // Bad destinations: 422 naming the field.
        var (bs, bad) = await PostAsync(api, "/api/v1/destinations", new { name = "x", type = "file", target = "../etc", segmentIds = new[] { id }, attributes = new[] { "nope" } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bs);
        Assert.NotNull(bad["errors"]!["target"]);
        Assert.NotNull(bad["errors"]!["attributes[0]"]);

        var (ps, parquet) = await PostAsync(api, "/api/v1/destinations", new
        {
            name = Unique("Gold parquet"), type = "file", target = "gold-" + tag, format = "parquet", mode = "full",
            segmentIds = new[] { id }, attributes = new[] { "age", "person.tier" }, identities = new[] { "Email", "CRMID" },
        });
        Assert.True(ps == HttpStatusCode.Created, parquet.ToJsonString());
        var run = await RunDestinationAsync(api, parquet.Id());
        Assert.Equal(15, run["members"]!.GetValue<long>());
        Assert.True(run["bytes"]!.GetValue<long>() > 0);
        var file = run["file"]!.GetValue<string>();
        Assert.EndsWith(".parquet", file);
        var lit = "'" + file.Replace("'", "''") + "'";
        Assert.Equal(15L, Convert.ToInt64(Duck($"SELECT COUNT(*) FROM read_parquet({lit})")));
        Assert.Equal(15L, Convert.ToInt64(Duck($"SELECT COUNT(*) FROM read_parquet({lit}) WHERE \"person.tier\" = 'gold' AND \"identity.CRMID\" LIKE 'C-{tag}-%'")));
        // Every third person has no email: 5 of the 15 gold (even) people are multiples of 6.
        Assert.Equal(5L, Convert.ToInt64(Duck($"SELECT COUNT(*) FROM read_parquet({lit}) WHERE \"identity.Email\" IS NULL")));
        Assert.Equal("32", Duck($"SELECT age FROM read_parquet({lit}) WHERE \"identity.CRMID\" = 'C-{tag}-12'")?.ToString());

        // Changes mode (CSV): the first run sends every entry, a later one only what changed since, an idle one nothing.
        var (cs, changes) = await PostAsync(api, "/api/v1/destinations", new
        {
            name = Unique("Gold changes"), type = "file", target = "gold-changes-" + tag, format = "csv", mode = "changes", segmentIds = new[] { id }, identities = new[] { "CRMID" },
        });
        Assert.True(cs == HttpStatusCode.Created, changes.ToJsonString());
        var first = await RunDestinationAsync(api, changes.Id());
        Assert.Equal(15, first["entered"]!.GetValue<long>());
        Assert.Equal(0, first["exited"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsJsonAsync($"/api/v1/collection/{people}", new object[]
        {
            new { id = $"C-{tag}-2", email = $"p2.{tag}@example.com", age = 22, vip = false, person = new { tier = "silver" } },
            new { id = $"C-{tag}-3", age = 23, vip = false, person = new { tier = "gold" } },
        })).StatusCode);
        await PortalHost.PollAsync(api, $"/api/v1/segments/{id}", s => s["history"]!.AsArray().Count >= 2, Wait);
        var second = await RunDestinationAsync(api, changes.Id());
        Assert.Equal(1, second["entered"]!.GetValue<long>());
        Assert.Equal(1, second["exited"]!.GetValue<long>());
        var lines = await File.ReadAllLinesAsync(second["file"]!.GetValue<string>());
        Assert.Equal("segmentId,segmentName,profileId,change,at,identity.CRMID", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.Contains(",exited,", StringComparison.Ordinal) && l.EndsWith($",C-{tag}-2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(",entered,", StringComparison.Ordinal) && l.EndsWith($",C-{tag}-3", StringComparison.Ordinal));
        var third = await RunDestinationAsync(api, changes.Id());
        Assert.Equal(0, third["members"]!.GetValue<long>());
    }

    internal static async Task ImportScoresAsync(HttpClient api, string model, string csv)
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(content, "file", "scores.csv");
        form.Add(new StringContent(JsonSerializer.Serialize(new { name = model, identity = new { column = "customer_id", @namespace = "CRMID" }, fields = new Dictionary<string, string> { ["p"] = "score" } })), "import");
        var response = await api.PostAsync("/api/v1/insights/imports", form);
        var body = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToJsonString());
        var batch = await PortalHost.PollAsync(api, $"/api/v1/batches/{body["batchId"]!.GetValue<string>()}", Final, Wait);
        Assert.Equal("success", batch["status"]!.GetValue<string>());
    }
}
