using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>API.md "Guardrails, latency, jobs": each hard limit rejects with its message, soft limits warn, usage equals direct counts, latency endpoints.</summary>
public sealed class GuardrailsApiTests(PortalHost host)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(8);

    /// <summary>An admin key of a new sandbox of its own, so its counts are not moved by other tests; and the sandbox id.</summary>
    private async Task<(HttpClient Api, string SandboxId)> OwnSandboxAsync(string prefix)
    {
        var key = await host.KeyAsync("admin", prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        var api = host.Api(key);
        return (api, await LakeTestData.SandboxIdAsync(api));
    }

    private static async Task<string> ProfileDatasetAsync(HttpClient api, object schema, bool profile = true)
    {
        var schemaId = (await CreateAsync(api, "/api/v1/schemas", schema)).Id();
        if (profile) Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).StatusCode);
        var datasetId = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Data"), schemaId })).Id();
        if (profile) Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).StatusCode);
        return datasetId;
    }

    private static async Task<JsonNode> GuardrailAsync(HttpClient api, string key)
    {
        var all = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/guardrails?fresh=true"));
        return all["items"]!.AsArray().Single(i => i!["key"]!.GetValue<string>() == key)!;
    }

    private static long Current(JsonNode item) => item["current"]!.GetValue<long>();
    private static string Status(JsonNode item) => item["status"]!.GetValue<string>();

    [Fact]
    public async Task Guardrails_list_every_limit_with_its_default_usage_status_and_enforcement()
    {
        using var api = host.Api();
        var items = (await PortalHost.JsonAsync(await api.GetAsync("/api/v1/guardrails")))["items"]!.AsArray();
        var byKey = items.ToDictionary(i => i!["key"]!.GetValue<string>(), i => i!);
        var expected = new Dictionary<string, (long Limit, string Enforcement)>
        {
            ["profile-datasets"] = (20, "soft"), ["event-datasets"] = (20, "soft"), ["identities-per-graph"] = (50, "hard"),
            ["events-per-profile"] = (5000, "soft"), ["profile-record-size"] = (102_400, "hard"), ["event-size"] = (10_240, "hard"),
            ["array-items"] = (500, "soft"), ["batches-per-day"] = (90, "soft"), ["fields-per-schema"] = (10_000, "hard"),
            ["audiences"] = (4000, "soft"), ["batch-file-size"] = (1L << 30, "hard"),
        };
        foreach (var (key, (limit, enforcement)) in expected)
        {
            Assert.True(byKey.ContainsKey(key), key);
            var item = byKey[key];
            Assert.Equal(limit, item["limit"]!.GetValue<long>());
            Assert.Equal(enforcement, item["enforcement"]!.GetValue<string>());
            Assert.Contains(Status(item), new[] { "ok", "warning", "exceeded" });
            Assert.False(string.IsNullOrEmpty(item["name"]!.GetValue<string>()));
            Assert.False(string.IsNullOrEmpty(item["unit"]!.GetValue<string>()));
            Assert.StartsWith("https://experienceleague.adobe.com/docs/experience-platform/", item["source"]!["url"]!.GetValue<string>());
        }
        Assert.Equal(0, Current(byKey["audiences"]));
        Assert.Null(byKey["audiences"]["note"]); // counts the real audiences (AudiencesApiTests checks a non-zero count)

        using var anonymous = host.Api(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/guardrails")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/ingestion/latency")).StatusCode);
    }

    [Fact]
    public async Task A_profile_record_over_100_KB_and_an_event_over_10_KB_are_rejected_rows_with_the_guardrail_and_row_number()
    {
        using var api = host.Api();
        using var dir = TestData.NewTempDir();
        var profileDataset = await ProfileDatasetAsync(api, new
        {
            name = Unique("Big profiles"), @class = "profile",
            fields = new object[] { new { path = "id", type = "string", identity = new { @namespace = "CRMID", primary = true } }, new { path = "note", type = "string" } },
        }, profile: false);
        var csv = Path.Combine(dir.Path, "profiles.csv");
        await File.WriteAllTextAsync(csv, $"id,note\nP-1,small\nP-2,{new string('x', 110_000)}\nP-3,small\nP-4,{new string('y', 90_000)}\n");
        var batch = await BatchIngestionApiTests.IngestAsync(api, profileDataset, csv, new() { ["errorThreshold"] = "50" });
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        Assert.Equal(3, batch["recordsWritten"]!.GetValue<long>());
        var error = (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{batch.Id()}/errors")))["items"]!.AsArray().Single()!;
        Assert.Equal(2, error["row"]!.GetValue<long>());
        Assert.Equal("RECORD_TOO_LARGE", error["code"]!.GetValue<string>());
        Assert.Contains("above the profile record limit of 102,400 bytes (guardrail 'profile record size', hard)", error["message"]!.GetValue<string>());
        Assert.True(batch["largestRecordBytes"]!.GetValue<long>() is > 90_000 and <= 102_400);

        var eventDataset = await ProfileDatasetAsync(api, new
        {
            name = Unique("Big events"), @class = "event",
            fields = new object[]
            {
                new { path = "id", type = "string", identity = new { @namespace = "CRMID", primary = true } }, new { path = "timestamp", type = "datetime", required = true },
                new { path = "eventType", type = "string", required = true }, new { path = "note", type = "string" },
            },
        }, profile: false);
        var events = Path.Combine(dir.Path, "events.csv");
        await File.WriteAllTextAsync(events, "id,timestamp,eventType,note\n" +
            "E-1,2024-01-01T00:00:00Z,view,a\nE-2,2024-01-01T00:00:01Z,view,b\n" + $"E-3,2024-01-01T00:00:02Z,view,{new string('z', 11_000)}\n");
        var eventBatch = await BatchIngestionApiTests.IngestAsync(api, eventDataset, events, new() { ["errorThreshold"] = "50" });
        Assert.Equal(2, eventBatch["recordsWritten"]!.GetValue<long>());
        var eventError = (await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{eventBatch.Id()}/errors")))["items"]!.AsArray().Single()!;
        Assert.Equal(3, eventError["row"]!.GetValue<long>());
        Assert.Equal("RECORD_TOO_LARGE", eventError["code"]!.GetValue<string>());
        Assert.Contains("above the event record limit of 10,240 bytes (guardrail 'event size', hard)", eventError["message"]!.GetValue<string>());

        // Streaming applies the same limit, per record.
        var streamed = await api.PostAsJsonAsync($"/api/v1/collection/{eventDataset}", new object[]
        {
            new { id = "E-4", timestamp = "2024-01-01T00:00:03Z", eventType = "view", note = "ok" },
            new { id = "E-5", timestamp = "2024-01-01T00:00:04Z", eventType = "view", note = new string('w', 12_000) },
        });
        var body = await PortalHost.JsonAsync(streamed);
        Assert.Equal(HttpStatusCode.Accepted, streamed.StatusCode);
        Assert.Equal(1, body["accepted"]!.GetValue<int>());
        var rejected = body["rejected"]!.AsArray().Single()!;
        Assert.Equal(1, rejected["index"]!.GetValue<int>());
        Assert.Contains("guardrail 'event size'", rejected["errors"]![0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_schema_over_the_fields_limit_cannot_be_saved_and_answers_422_with_the_guardrail()
    {
        using var api = host.Api();
        var fields = Enumerable.Range(0, 10_001).Select(i => (object)new { path = $"f{i}", type = "string" }).ToList();
        fields[0] = new { path = "id", type = "string", identity = new { @namespace = "CRMID", primary = true } };
        var response = await api.PostAsJsonAsync("/api/v1/schemas", new { name = Unique("Too wide"), @class = "profile", fields });
        var problem = await PortalHost.JsonAsync(response);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("more than the limit of 10000 (guardrail 'fields per schema')", problem["detail"]!.GetValue<string>().Replace(",", ""));
    }

    [Fact]
    public async Task An_identity_graph_over_50_identities_evicts_the_oldest_cookies_and_is_flagged()
    {
        var (api, sandboxId) = await OwnSandboxAsync("graphs");
        using var _ = api;
        var datasetId = await ProfileDatasetAsync(api, new
        {
            name = Unique("Devices"), @class = "profile",
            fields = new object[]
            {
                new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "cookie", type = "string", identity = new { @namespace = "ECID" } },
                new { path = "seen", type = "integer" },
            },
        });
        using var dir = TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "devices.csv");
        var sb = new StringBuilder("customerId,cookie,seen\n");
        for (var i = 1; i <= 60; i++) sb.Append($"C-1,cookie-{i:D3},{i}\n");
        await File.WriteAllTextAsync(csv, sb.ToString());
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.Equal("success", batch["status"]!.GetValue<string>());

        var profile = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/profiles?namespace=CRMID&id=C-1"));
        var identities = profile["identities"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(50, identities.Count);
        Assert.Contains("C-1", identities);
        Assert.DoesNotContain("cookie-001", identities); // 61 identities: the 11 oldest cookies went first (same time: by value)
        Assert.DoesNotContain("cookie-011", identities);
        Assert.Contains("cookie-060", identities);
        var stats = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/profiles/stats"));
        Assert.Equal(1, stats["graphsOverLimit"]!.GetValue<long>());

        var item = await GuardrailAsync(api, "identities-per-graph");
        Assert.Equal(50, Current(item));
        Assert.Equal("warning", Status(item));
        Assert.Contains("1 graph(s) reached the limit", item["note"]!.GetValue<string>());
        Assert.Contains(profile["profileId"]!.GetValue<string>(), item["offender"]!.GetValue<string>());

        await using var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(sandboxId);
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        var direct = await db.Set<ProfileIdentity>().IgnoreQueryFilters().Where(i => i.SandboxId == sandboxId).GroupBy(i => i.ProfileId).Select(g => g.Count()).MaxAsync();
        Assert.Equal(direct, Current(item));
        Assert.Equal(11, await db.Set<IdentityEviction>().IgnoreQueryFilters().CountAsync(e => e.SandboxId == sandboxId));
    }

    [Fact]
    public async Task Soft_limits_warn_on_the_21st_profile_dataset_on_a_long_array_and_on_the_91st_batch_of_the_day()
    {
        var (api, sandboxId) = await OwnSandboxAsync("soft");
        using var _ = api;
        var schemaId = (await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("Tagged"), @class = "profile",
            fields = new object[]
            {
                new { path = "id", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "tags", type = "array", itemType = "string" },
            },
        })).Id();
        var datasets = new List<JsonNode>();
        for (var i = 1; i <= 21; i++) datasets.Add(await CreateAsync(api, "/api/v1/datasets", new { name = $"Tagged {i}", schemaId }));
        Assert.All(datasets.Take(20), d => Assert.Empty(d["warnings"]!.AsArray()));
        var warning = datasets[20]["warnings"]!.AsArray().Single()!.GetValue<string>();
        Assert.Contains("'profile datasets per sandbox' exceeded", warning);
        Assert.Contains("21", warning);
        Assert.Null((await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{datasets[0].Id()}")))["warnings"]);
        var item = await GuardrailAsync(api, "profile-datasets");
        Assert.Equal(21, Current(item));
        Assert.Equal("exceeded", Status(item));

        // An array of 600 items: stored, with a warning on the batch.
        using var dir = TestData.NewTempDir();
        var json = Path.Combine(dir.Path, "tags.json");
        await File.WriteAllTextAsync(json, new JsonArray(
            new JsonObject { ["id"] = "T-1", ["tags"] = new JsonArray(Enumerable.Range(0, 600).Select(i => (JsonNode)JsonValue.Create($"t{i}")).ToArray()) },
            new JsonObject { ["id"] = "T-2", ["tags"] = new JsonArray("a", "b") }).ToJsonString());
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasets[0].Id(), json);
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        Assert.Equal(600, batch["mostArrayItems"]!.GetValue<int>());
        Assert.Contains(batch["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("'array items in a profile fragment' exceeded"));
        Assert.Equal("exceeded", Status(await GuardrailAsync(api, "array-items")));

        // 89 more batches today (written directly), then an upload: the 91st carries the warning, in the 202 and on the batch.
        await using (var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(sandboxId))
        {
            var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
            for (var i = 0; i < 89; i++)
                db.Add(new Batch { DatasetId = datasets[1].Id(), Status = BatchStatus.Success, Source = BatchSource.Upload, FileName = $"earlier-{i}.csv", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        Assert.Equal("warning", Status(await GuardrailAsync(api, "batches-per-day")));
        var csv = Path.Combine(dir.Path, "one.csv");
        await File.WriteAllTextAsync(csv, "id\nT-3\n");
        var response = await BatchIngestionApiTests.UploadAsync(api, datasets[1].Id(), csv);
        var accepted = await PortalHost.JsonAsync(response);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("'batches per day' exceeded", accepted["warnings"]!.AsArray().Single()!.GetValue<string>());
        var done = await PortalHost.PollAsync(api, $"/api/v1/batches/{accepted.Id()}", b => b["status"]!.GetValue<string>() is "success" or "failed");
        Assert.Equal("success", done["status"]!.GetValue<string>());
        Assert.Contains(done["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("batch 91 of the day"));
        var perDay = await GuardrailAsync(api, "batches-per-day");
        Assert.Equal(91, Current(perDay));
        Assert.Equal("exceeded", Status(perDay));
    }

    [Fact]
    public async Task Usage_figures_equal_direct_counts_on_superstore_and_online_retail()
    {
        var (api, sandboxId) = await OwnSandboxAsync("usage");
        using var _ = api;
        var superstore = await ProfileDatasetAsync(api, new
        {
            name = Unique("Superstore customers"), @class = "profile",
            fields = new object[]
            {
                new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "customerName", type = "string" }, new { path = "segment", type = "string" }, new { path = "city", type = "string" },
                new { path = "sales", type = "number" },
            },
        });
        var retail = await ProfileDatasetAsync(api, new
        {
            name = Unique("Retail purchases"), @class = "event",
            fields = new object[]
            {
                new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "timestamp", type = "datetime", required = true }, new { path = "eventType", type = "string", required = true },
                new { path = "invoiceNo", type = "string" }, new { path = "stockCode", type = "string" }, new { path = "description", type = "string" },
                new { path = "quantity", type = "integer" }, new { path = "unitPrice", type = "number" }, new { path = "country", type = "string" },
            },
        });
        var superstoreFile = TestData.Shipped("superstore/superstore.csv.gz");
        var retailFile = TestData.Shipped("online_retail/online_retail.csv.gz");
        var s = await BatchIngestionApiTests.IngestAsync(api, superstore, superstoreFile, new()
        {
            ["mapping"] = """{"Customer ID":"customerId","Customer Name":"customerName","Segment":"segment","City":"city","Sales":"sales"}""",
        });
        Assert.Equal("success", s["status"]!.GetValue<string>());
        var upload = await BatchIngestionApiTests.UploadAsync(api, retail, retailFile, new()
        {
            ["mapping"] = """{"CustomerID":"customerId","InvoiceDate":"timestamp","InvoiceNo":"invoiceNo","StockCode":"stockCode","Description":"description","Quantity":"quantity","UnitPrice":"unitPrice","Country":"country"}""",
            ["constants"] = """{"eventType":"purchase"}""",
            ["timestampFormat"] = "yyyy-MM-dd HH:mm:ss",
        });
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var r = await PortalHost.PollAsync(api, $"/api/v1/batches/{(await PortalHost.JsonAsync(upload)).Id()}",
            b => b["status"]!.GetValue<string>() is "success" or "failed", Long);
        Assert.True(r["status"]!.GetValue<string>() == "success", r.ToJsonString());
        Assert.Equal(541_909, r["recordsWritten"]!.GetValue<long>());

        var items = (await PortalHost.JsonAsync(await api.GetAsync("/api/v1/guardrails?fresh=true")))["items"]!.AsArray()
            .ToDictionary(i => i!["key"]!.GetValue<string>(), i => i!);

        // Direct counts: the source files with DuckDB, the catalog with LINQ.
        var superstoreCsv = TestData.Decompressed("superstore/superstore.csv.gz");
        var retailCsv = TestData.Decompressed("online_retail/online_retail.csv.gz");
        var customers = Duck($"SELECT count(DISTINCT \"Customer ID\") FROM read_csv('{superstoreCsv}', header = true)");
        var retailCustomers = Duck($"SELECT count(DISTINCT CustomerID) FROM read_csv('{retailCsv}', header = true)");
        var mostEvents = Duck($"SELECT max(c) FROM (SELECT CustomerID, count(*) AS c FROM read_csv('{retailCsv}', header = true) WHERE CustomerID IS NOT NULL GROUP BY 1)");
        Assert.Equal(7983, mostEvents); // customer 17841
        Assert.Equal(mostEvents, Current(items["events-per-profile"]));
        Assert.Equal("exceeded", Status(items["events-per-profile"]));
        Assert.Contains(r["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("'events per profile' exceeded"));

        var stats = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/profiles/stats"));
        Assert.Equal(customers + retailCustomers, stats["profiles"]!.GetValue<long>());
        Assert.Equal(new FileInfo(retailFile).Length, Current(items["batch-file-size"]));

        await using var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(sandboxId);
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        var byClass = await (from d in db.Set<Dataset>() where d.DeletedAt == null join sc in db.Set<Schema>() on d.SchemaId equals sc.Id select sc.Class).ToListAsync();
        Assert.Equal(byClass.Count(c => c == SchemaClass.Profile), Current(items["profile-datasets"]));
        Assert.Equal(byClass.Count(c => c == SchemaClass.Event), Current(items["event-datasets"]));
        Assert.Equal(1, Current(items["event-datasets"]));
        var eventsByProfile = await db.Set<ProfileEvent>().IgnoreQueryFilters().Where(e => e.SandboxId == sandboxId).GroupBy(e => e.ProfileId).Select(g => g.LongCount()).MaxAsync();
        Assert.Equal(eventsByProfile, Current(items["events-per-profile"]));
        var graph = await db.Set<ProfileIdentity>().IgnoreQueryFilters().Where(i => i.SandboxId == sandboxId).GroupBy(i => i.ProfileId).Select(g => g.Count()).MaxAsync();
        Assert.Equal(graph, Current(items["identities-per-graph"]));
        var midnight = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
        var today = await db.Set<Batch>().CountAsync(b => b.CreatedAt >= midnight && b.Source != BatchSource.Streaming);
        Assert.Equal(2, today);
        Assert.Equal(today, Current(items["batches-per-day"]));
        var widest = (await db.Set<Schema>().ToListAsync()).Max(x => x.Fields.Count);
        Assert.Equal(widest, Current(items["fields-per-schema"]));
        var largestEvent = (await db.Set<Batch>().Where(b => b.DatasetId == retail).SingleAsync()).LargestRecordBytes;
        Assert.Equal(largestEvent, Current(items["event-size"]));
        Assert.InRange(largestEvent, 50, 10_240);
        Assert.InRange(Current(items["profile-record-size"]), 20, 1000);
    }

    [Fact]
    public async Task Latency_reports_stage_and_end_to_end_percentiles_the_batch_timelines_and_streaming_and_refuses_bad_values()
    {
        var (api, _) = await OwnSandboxAsync("latency");
        using var __ = api;
        var datasetId = await ProfileDatasetAsync(api, BatchIngestionApiTests.PeopleSchema(Unique("People")));
        using var dir = TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "people.csv");
        await File.WriteAllTextAsync(csv, "id,email,age,vip,person.tier\nL-1,l1@example.com,41,true,gold\nL-2,l2@example.com,35,false,silver\n");
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.Equal("success", batch["status"]!.GetValue<string>());

        var summary = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/ingestion/latency?hours=1"));
        Assert.Equal(1, summary["batches"]!.GetValue<int>());
        Assert.Equal("nearest-rank", summary["method"]!.GetValue<string>());
        var stages = summary["stages"]!.AsObject();
        Assert.Equal(["upload", "validate", "lake", "identity", "profile", "audiences"], stages.Select(kv => kv.Key).ToArray());
        // The audiences stage runs only in sandboxes with evaluated audiences (none here): no figures for it.
        Assert.All(stages.Where(kv => kv.Key != "audiences"), kv => Assert.NotNull(kv.Value!["p50Ms"]));
        // One batch: p50 = p95 = its end to end, first stage start to last stage end.
        var timeline = batch["stages"]!.AsArray();
        var e2e = (timeline.Max(x => DateTimeOffset.Parse(x!["finishedAt"]!.GetValue<string>())) - timeline.Min(x => DateTimeOffset.Parse(x!["startedAt"]!.GetValue<string>()))).TotalMilliseconds;
        Assert.Equal(e2e, summary["p50Ms"]!.GetValue<double>(), 3);
        Assert.Equal(e2e, summary["p95Ms"]!.GetValue<double>(), 3);

        var list = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/ingestion/latency/batches?hours=1&limit=5"));
        var item = list["items"]!.AsArray().Single()!;
        Assert.Equal(batch.Id(), item.Id());
        Assert.Equal(5, item["stages"]!.AsArray().Count);
        Assert.Equal(e2e, item["totalMs"]!.GetValue<double>(), 3);
        Assert.Null(item["currentStage"]);
        Assert.Equal(0, list["inFlight"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(item["datasetName"]!.GetValue<string>()));

        // Streaming: a record received is on the profile within the flush interval; its latency is measured.
        var streamed = await api.PostAsJsonAsync($"/api/v1/collection/{datasetId}", new { id = "L-1", email = "l1@example.com", age = 42 });
        Assert.Equal(HttpStatusCode.Accepted, streamed.StatusCode);
        var withStreaming = await PortalHost.PollAsync(api, "/api/v1/ingestion/latency?hours=1", j => j["streaming"]!["microBatches"]!.GetValue<int>() >= 1, TimeSpan.FromSeconds(30));
        Assert.InRange(withStreaming["streaming"]!["p50Ms"]!.GetValue<double>(), 0, 30_000);
        Assert.Equal(1, withStreaming["batches"]!.GetValue<int>()); // micro-batches are not counted as batches

        foreach (var bad in new[] { "/api/v1/ingestion/latency?hours=0", "/api/v1/ingestion/latency?hours=abc", "/api/v1/ingestion/latency?hours=10000",
                     "/api/v1/ingestion/latency/batches?hours=-1", "/api/v1/ingestion/latency/batches?limit=0", "/api/v1/ingestion/latency/batches?limit=x" })
        {
            var response = await api.GetAsync(bad);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, bad);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await PortalHost.JsonAsync(response);
            Assert.NotNull(problem["errors"]![bad.Contains("limit=") ? "limit" : "hours"]);
        }
    }

    private static long Duck(string sql)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }
}
