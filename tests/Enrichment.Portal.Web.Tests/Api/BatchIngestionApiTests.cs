using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// Batch and streaming ingestion through the real API on real files. Online Retail is an event schema: the file has no
/// eventType column, so the upload sets it with the <c>constants</c> form field (<c>{"eventType":"commerce.purchase"}</c>).
/// </summary>
public sealed class BatchIngestionApiTests(PortalHost host)
{
    private static bool Final(JsonNode b) => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned";

    [Fact]
    public async Task Every_format_lands_through_the_batches_endpoint()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("People formats")));
        using var tmp = TestData.NewTempDir();
        var csv = Write(tmp.Path, "p.csv", "id,email,age,vip,person.tier\nA,a@x.com,30,true,gold\nB,b@x.com,,false,silver\n");
        var gz = Path.Combine(tmp.Path, "p.csv.gz");
        using (var o = new GZipStream(File.Create(gz), CompressionLevel.Fastest)) o.Write(File.ReadAllBytes(csv));
        var json = Write(tmp.Path, "p.json", """[{"id":"A","email":"a@x.com","age":30,"vip":true,"person":{"tier":"gold"}},{"id":"B","email":"b@x.com","age":null,"vip":false,"person":{"tier":"silver"}}]""");
        var jsonl = Write(tmp.Path, "p.jsonl", "{\"id\":\"A\",\"email\":\"a@x.com\",\"age\":30,\"vip\":true,\"person\":{\"tier\":\"gold\"}}\n{\"id\":\"B\",\"email\":\"b@x.com\",\"vip\":false,\"person\":{\"tier\":\"silver\"}}\n");
        var parquet = Path.Combine(tmp.Path, "p.parquet");
        Duck($"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet}' (FORMAT parquet)");
        foreach (var (file, format) in new[] { (csv, "csv"), (gz, "csv"), (json, "jsonarray"), (jsonl, "jsonlines"), (parquet, "parquet") })
        {
            var b = await IngestAsync(api, ds, file);
            Assert.True(b["status"]!.GetValue<string>() == "success", file + ": " + b.ToJsonString());
            Assert.Equal(format, b["format"]!.GetValue<string>());
            Assert.Equal((2L, 2L, 0L), (b["recordsRead"]!.GetValue<long>(), b["recordsWritten"]!.GetValue<long>(), b["recordsFailed"]!.GetValue<long>()));
            Assert.Equal(["upload", "validate", "lake"], b["stages"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
            Assert.All(b["stages"]!.AsArray(), s => Assert.NotNull(s!["finishedAt"]));
        }
        var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds}"));
        Assert.Equal((10L, 5), (dataset["recordCount"]!.GetValue<long>(), dataset["batchCount"]!.GetValue<int>()));
        var records = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds}/records?limit=100"));
        Assert.Equal(10, records["rows"]!.AsArray().Count);
        Assert.Contains("person.tier", records["columns"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task Superstore_and_semicolon_bank_marketing_land_with_the_reference_counts()
    {
        using var api = host.Api();
        var store = await DatasetAsync(api, SuperstoreSchema(Unique("Superstore")));
        var s = await IngestAsync(api, store, TestData.Shipped("superstore/superstore.csv.gz"));
        Assert.True(s["status"]!.GetValue<string>() == "success", s.ToJsonString());
        Assert.Equal((9_994L, 9_994L, 0L), (s["recordsRead"]!.GetValue<long>(), s["recordsWritten"]!.GetValue<long>(), s["recordsFailed"]!.GetValue<long>()));

        var bank = await DatasetAsync(api, new
        {
            name = Unique("Bank"), @class = "profile",
            fields = new object[]
            {
                new { path = "age", type = "integer", required = true }, new { path = "job", type = "string" }, new { path = "balance", type = "integer" },
                new { path = "duration", type = "integer" }, new { path = "pdays", type = "integer" }, new { path = "y", type = "string", @enum = new[] { "yes", "no" } },
            },
        });
        var b = await IngestAsync(api, bank, TestData.Shipped("bank_marketing/bank-full.csv.gz"), new() { ["delimiter"] = ";" });
        Assert.True(b["status"]!.GetValue<string>() == "success", b.ToJsonString());
        Assert.Equal((45_211L, 45_211L), (b["recordsRead"]!.GetValue<long>(), b["recordsWritten"]!.GetValue<long>()));
        var files = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{b.Id()}/files"));
        Assert.Equal(45_211L, files["items"]!.AsArray().Sum(f => f!["records"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Online_retail_csv_gz_reads_541909_lines_with_135080_without_identity()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, RetailSchema(Unique("Retail")));
        var b = await IngestAsync(api, ds, TestData.Shipped("online_retail/online_retail.csv.gz"), RetailFields());
        Assert.True(b["status"]!.GetValue<string>() == "success", b.ToJsonString());
        Assert.Equal(541_909L, b["recordsRead"]!.GetValue<long>());
        Assert.Equal(541_909L, b["recordsWritten"]!.GetValue<long>());
        Assert.Equal(135_080L, b["recordsWithoutIdentity"]!.GetValue<long>());
        var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds}"));
        Assert.Equal(541_909L, dataset["recordCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_partial_batch_lists_its_rejected_rows_and_a_batch_over_threshold_fails_with_the_reason()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("People partial")));
        var lines = new List<string> { "id,email,age,vip,person.tier" };
        for (var i = 1; i <= 100; i++) lines.Add($"C{i},u{i}@x.com,{20 + i % 50},true,gold");
        lines[10] = "C10,u10@x.com,ten,true,gold";
        lines[20] = "C20,u20@x.com,30,true,bronze";
        using var tmp = TestData.NewTempDir();
        var b = await IngestAsync(api, ds, Write(tmp.Path, "partial.csv", string.Join("\n", lines)));
        Assert.True(b["status"]!.GetValue<string>() == "success", b.ToJsonString());
        Assert.Equal((100L, 98L, 2L), (b["recordsRead"]!.GetValue<long>(), b["recordsWritten"]!.GetValue<long>(), b["recordsFailed"]!.GetValue<long>()));
        Assert.Contains(b["errorSummary"]!.AsArray(), e => e!["code"]!.GetValue<string>() == "TYPE_MISMATCH" && e["field"]!.GetValue<string>() == "age" && e["count"]!.GetValue<long>() == 1);
        var errors = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{b.Id()}/errors?limit=1"));
        Assert.Equal(10L, errors["items"]![0]!["row"]!.GetValue<long>());
        Assert.Equal("age", errors["items"]![0]!["field"]!.GetValue<string>());
        Assert.Equal("C10,u10@x.com,ten,true,gold", errors["items"]![0]!["raw"]!.GetValue<string>());
        var next = errors["nextCursor"]!.GetValue<string>();
        var second = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{b.Id()}/errors?limit=1&cursor={Uri.EscapeDataString(next)}"));
        Assert.Equal(("ENUM_VIOLATION", 20L), (second["items"]![0]!["code"]!.GetValue<string>(), second["items"]![0]!["row"]!.GetValue<long>()));
        var csv = await api.GetAsync($"/api/v1/batches/{b.Id()}/errors?format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        Assert.Equal(3, (await csv.Content.ReadAsStringAsync()).Trim().Split('\n').Length);

        var bad = new List<string> { "id,age" };
        for (var i = 1; i <= 1000; i++) bad.Add(i % 8 == 0 ? $"C{i},old" : $"C{i},{i % 90}");
        var failed = await IngestAsync(api, ds, Write(tmp.Path, "bad.csv", string.Join("\n", bad)));
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Equal("12.5% of records were rejected (125 of 1,000), above the 5% threshold", failed["failureReason"]!.GetValue<string>());
        Assert.Empty((await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{failed.Id()}/files")))["items"]!.AsArray());
        var lenient = await IngestAsync(api, ds, Write(tmp.Path, "bad.csv", string.Join("\n", bad)), new() { ["errorThreshold"] = "20" });
        Assert.Equal("success", lenient["status"]!.GetValue<string>());
        Assert.Equal(875L, lenient["recordsWritten"]!.GetValue<long>());

        // A retry re-runs the failed batch from its kept raw file (same options, so it fails again, as a second attempt).
        var retry = await api.PostAsync($"/api/v1/batches/{failed.Id()}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var again = await PortalHost.PollAsync(api, $"/api/v1/batches/{failed.Id()}", j => Final(j) && j["attempts"]!.GetValue<int>() == 2);
        Assert.Equal("failed", again["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsync($"/api/v1/batches/{lenient.Id()}/retry", null)).StatusCode);
    }

    [Fact]
    public async Task An_idempotent_re_upload_returns_the_first_batch_with_200()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("People idem")));
        using var tmp = TestData.NewTempDir();
        var file = Write(tmp.Path, "p.csv", "id,age\nA,1\nB,2\n");
        var key = Guid.NewGuid().ToString("N");
        var first = await UploadAsync(api, ds, file, new() { ["idempotencyKey"] = key });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var firstBody = await PortalHost.JsonAsync(first);
        Assert.Equal(ds, firstBody["datasetId"]!.GetValue<string>());
        Assert.Equal("queued", firstBody["status"]!.GetValue<string>());
        var second = await UploadAsync(api, ds, file, new() { ["idempotencyKey"] = key });
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(firstBody.Id(), (await PortalHost.JsonAsync(second)).Id());
        await PortalHost.PollAsync(api, $"/api/v1/batches/{firstBody.Id()}", Final);
        var list = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches?datasetId={ds}"));
        Assert.Single(list["items"]!.AsArray());
    }

    [Fact]
    public async Task A_batch_cancelled_half_way_and_retried_stores_every_row_exactly_once()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, RetailSchema(Unique("Retail interrupted")));
        var id = (await PortalHost.JsonAsync(await UploadAsync(api, ds, TestData.Shipped("online_retail/online_retail.csv.gz"), RetailFields()))).Id();
        await PortalHost.PollAsync(api, $"/api/v1/batches/{id}", j => j["recordsRead"]!.GetValue<long>() > 0 || Final(j), TimeSpan.FromMinutes(2));
        var cancel = await api.PostAsync($"/api/v1/batches/{id}/cancel", null);
        if (cancel.StatusCode == HttpStatusCode.OK)
        {
            var stopped = await PortalHost.PollAsync(api, $"/api/v1/batches/{id}", Final);
            Assert.Equal("abandoned", stopped["status"]!.GetValue<string>());
            Assert.Empty((await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{id}/files")))["items"]!.AsArray());
            // The job notices the cancellation within a second or two and removes its partial output.
            await Task.Delay(3000);
            Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/v1/batches/{id}/retry", null)).StatusCode);
        }
        var done = await PortalHost.PollAsync(api, $"/api/v1/batches/{id}", j => j["status"]!.GetValue<string>() is "success" or "failed");
        Assert.Equal("success", done["status"]!.GetValue<string>());
        Assert.Equal(541_909L, done["recordsWritten"]!.GetValue<long>());

        // A crash half way leaves a temp folder behind; re-running the job replaces the folder: the rows are stored once.
        var folder = Path.Combine(host.DataDirectory, "lake");
        var datasetFolder = Directory.GetDirectories(folder, ds, SearchOption.AllDirectories).Single();
        Directory.CreateDirectory(Path.Combine(datasetFolder, "_tmp", id + "-deadbeef"));
        File.WriteAllText(Path.Combine(datasetFolder, "_tmp", id + "-deadbeef", "part-00000.parquet"), "half");
        await RerunJobAsync(id);
        var count = Convert.ToInt64(Duck($"SELECT count(*) FROM read_parquet('{datasetFolder}/*/part-*.parquet')"));
        Assert.Equal(541_909L, count);
        Assert.False(Directory.Exists(Path.Combine(datasetFolder, "_tmp", id + "-deadbeef")));
        var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds}"));
        Assert.Equal((541_909L, 1), (dataset["recordCount"]!.GetValue<long>(), dataset["batchCount"]!.GetValue<int>()));
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_413_and_nothing_is_stored()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("People big")));
        using var tmp = TestData.NewTempDir();
        var file = Write(tmp.Path, "big.csv", "id,age\n" + string.Concat(Enumerable.Range(0, 2000).Select(i => $"C{i},{i % 90}\n")));
        var config = host.Services.GetRequiredService<IConfiguration>();
        var before = config["Ingestion:MaxUploadBytes"];
        config["Ingestion:MaxUploadBytes"] = "4096";
        try
        {
            var response = await UploadAsync(api, ds, file);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            // Without a Content-Length (chunked), the copy is counted and stopped.
            using var form = new MultipartFormDataContent();
            var chunked = new StreamContent(new NonSeekable(File.OpenRead(file)));
            form.Add(chunked, "file", "big.csv");
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/datasets/{ds}/batches") { Content = form };
            request.Headers.TransferEncodingChunked = true;
            var streamed = await api.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        }
        finally { config["Ingestion:MaxUploadBytes"] = before ?? (1L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture); }
        var list = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches?datasetId={ds}"));
        Assert.Empty(list["items"]!.AsArray());
        var incoming = Directory.GetDirectories(Path.Combine(host.DataDirectory, "uploads"), "_incoming", SearchOption.AllDirectories);
        Assert.All(incoming, d => Assert.Empty(Directory.GetFiles(d)));
    }

    [Fact]
    public async Task Streamed_records_answer_accepted_and_rejected_indexes_and_reach_the_lake_within_two_seconds()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("People stream")));
        var body = new object[]
        {
            new { id = "S1", email = "S1@Example.com", age = 31, person = new { tier = "gold" } },
            new { id = "S2", age = "old" },
            new { id = "S3", vip = true },
        };
        var response = await api.PostAsJsonAsync($"/api/v1/collection/{ds}", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var json = await PortalHost.JsonAsync(response);
        Assert.Equal(2, json["accepted"]!.GetValue<int>());
        var rejected = Assert.Single(json["rejected"]!.AsArray())!;
        Assert.Equal(1, rejected["index"]!.GetValue<int>());
        Assert.Equal("TYPE_MISMATCH", rejected["errors"]![0]!["code"]!.GetValue<string>());
        var single = await api.PostAsJsonAsync($"/api/v1/collection/{ds}", new { id = "S4" });
        Assert.Equal(1, (await PortalHost.JsonAsync(single))["accepted"]!.GetValue<int>());

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await PortalHost.PollAsync(api, $"/api/v1/datasets/{ds}", d => d["recordCount"]!.GetValue<long>() == 3, TimeSpan.FromSeconds(5));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"took {watch.Elapsed}");
        var records = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ds}/records"));
        Assert.Equal(3, records["rows"]!.AsArray().Count);
        var batches = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches?datasetId={ds}&status=success"));
        Assert.All(batches["items"]!.AsArray(), b => Assert.Equal("streaming", b!["source"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await api.PostAsJsonAsync($"/api/v1/collection/{ds}", Enumerable.Range(0, 1001).Select(i => new { id = $"X{i}" }))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await api.PostAsync($"/api/v1/collection/{ds}", new StringContent("[" + new string(' ', 1_100_000) + "]", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync($"/api/v1/collection/{ds}", new StringContent("{\"id\":", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync($"/api/v1/collection/{ds}", new StringContent(new string('[', 10_000) + new string(']', 10_000), Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync($"/api/v1/collection/{ds}", new StringContent("42", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsJsonAsync("/api/v1/collection/nope", new { id = "x" })).StatusCode);
    }

    [Fact]
    public async Task Bad_files_end_as_failed_batches_with_reasons_never_500()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("People bad files")));
        using var tmp = TestData.NewTempDir();
        var good = Encoding.UTF8.GetBytes("id,age\n" + string.Concat(Enumerable.Range(0, 5000).Select(i => $"C{i},{i % 90}\n")));
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) z.Write(good);
        var truncated = gz.ToArray()[..(int)(gz.Length / 2)];
        var garbage = new byte[20_000];
        new Random(7).NextBytes(garbage);
        var invalidUtf8 = Encoding.UTF8.GetBytes("id,age\nA,1\n").Concat(new byte[] { 0x42, 0xC3, 0x28, 0xFF, (byte)',', (byte)'2', (byte)'\n' }).ToArray();
        var wide = Encoding.UTF8.GetBytes(string.Join(",", Enumerable.Range(0, 10_000).Select(i => "c" + i)) + "\n" + string.Join(",", Enumerable.Range(0, 10_000).Select(_ => "1")) + "\n");
        var deep = Encoding.UTF8.GetBytes("[" + new string('[', 10_000) + new string(']', 10_000) + "]");
        foreach (var (name, bytes) in new[] { ("truncated.csv.gz", truncated), ("garbage.csv", garbage), ("invalid.csv", invalidUtf8), ("wide.csv", wide), ("deep.json", deep) })
        {
            var path = Path.Combine(tmp.Path, name);
            await File.WriteAllBytesAsync(path, bytes);
            var response = await UploadAsync(api, ds, path);
            Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode}");
            if (response.StatusCode != HttpStatusCode.Accepted) continue;
            var b = await PortalHost.PollAsync(api, $"/api/v1/batches/{(await PortalHost.JsonAsync(response)).Id()}", Final);
            Assert.True(b["status"]!.GetValue<string>() == "failed", $"{name}: {b.ToJsonString()}");
            Assert.False(string.IsNullOrWhiteSpace(b["failureReason"]?.GetValue<string>()), name);
        }
    }

    [Fact]
    public async Task Bad_requests_are_4xx_never_500()
    {
        using var api = host.Api();
        var ds = await DatasetAsync(api, PeopleSchema(Unique("People bad requests")));
        using var tmp = TestData.NewTempDir();
        var file = Write(tmp.Path, "p.csv", "id,age\nA,1\n");
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(api, ds, file, new() { ["mapping"] = "{not json" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(api, ds, file, new() { ["mapping"] = "{\"id\":\"nope\"}" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(api, ds, file, new() { ["errorThreshold"] = "abc" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(api, ds, file, new() { ["errorThreshold"] = "150" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(api, ds, file, new() { ["delimiter"] = ";;" })).StatusCode);
        using (var noFile = new MultipartFormDataContent { { new StringContent(","), "delimiter" } })
            Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync($"/api/v1/datasets/{ds}/batches", noFile)).StatusCode);
        var malformed = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nid\nA", Encoding.UTF8);
        malformed.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync($"/api/v1/datasets/{ds}/batches", malformed)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync($"/api/v1/datasets/{ds}/batches", new StringContent("id\nA"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await UploadAsync(api, "unknown", file)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/batches/unknown")).StatusCode);

        var other = host.Api(await host.KeyAsync("engineer", "ingest-other"));
        Assert.Equal(HttpStatusCode.NotFound, (await UploadAsync(other, ds, file)).StatusCode);
        var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(viewer, ds, file)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await UploadAsync(host.Api(null), ds, file)).StatusCode);

        var b = await IngestAsync(api, ds, file);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/batches/{b.Id()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/batches/{b.Id()}/files/..%2F..%2Fcatalog.db")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/batches/{b.Id()}/files/_SUCCESS")).StatusCode);
        var files = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{b.Id()}/files"));
        var name = files["items"]![0]!["name"]!.GetValue<string>();
        var download = await api.GetAsync($"/api/v1/batches/{b.Id()}/files/{name}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("PAR1", Encoding.ASCII.GetString((await download.Content.ReadAsByteArrayAsync())[..4]));

        Assert.Equal(HttpStatusCode.Accepted, (await api.DeleteAsync($"/api/v1/datasets/{ds}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await UploadAsync(api, ds, file)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/batches/{b.Id()}")).StatusCode);
    }

    // ---- helpers ----

    private async Task RerunJobAsync(string batchId)
    {
        await using var scope = host.Services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<Enrichment.Portal.Core.Catalog.CatalogDb>();
        var batch = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstAsync(
            Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.IgnoreQueryFilters(db.Set<Enrichment.Portal.Core.Ingestion.Batch>()), b => b.Id == batchId);
        sp.GetRequiredService<Enrichment.Portal.Core.Sandboxes.SandboxContext>().SandboxId = batch.SandboxId;
        // As after a crash: the batch row still says processing.
        batch.Status = Enrichment.Portal.Core.Ingestion.BatchStatus.Processing;
        await db.SaveChangesAsync();
        var job = sp.GetRequiredKeyedService<Enrichment.Portal.Core.Jobs.IPortalJob>("ingestion");
        await job.RunAsync(batchId, CancellationToken.None);
    }

    internal static object PeopleSchema(string name) => new
    {
        name, @class = "profile",
        fields = new object[]
        {
            new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
            new { path = "email", type = "string", identity = new { @namespace = "Email" } },
            new { path = "age", type = "integer" }, new { path = "vip", type = "boolean" },
            new { path = "person.tier", type = "string", @enum = new[] { "gold", "silver" } },
        },
    };

    internal static object SuperstoreSchema(string name) => new
    {
        name, @class = "profile",
        fields = new object[]
        {
            new { path = "rowId", type = "integer", required = true }, new { path = "orderId", type = "string", required = true },
            new { path = "orderDate", type = "date" }, new { path = "shipDate", type = "date" }, new { path = "shipMode", type = "string" },
            new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } },
            new { path = "customerName", type = "string" }, new { path = "segment", type = "string", @enum = new[] { "Consumer", "Corporate", "Home Office" } },
            new { path = "postalCode", type = "integer" }, new { path = "category", type = "string" }, new { path = "sales", type = "number" },
            new { path = "quantity", type = "integer" }, new { path = "discount", type = "number" }, new { path = "profit", type = "number" },
        },
    };

    private static object RetailSchema(string name) => new
    {
        name, @class = "event",
        fields = new object[]
        {
            new { path = "invoiceNo", type = "string", required = true }, new { path = "stockCode", type = "string" },
            new { path = "description", type = "string" }, new { path = "quantity", type = "integer" }, new { path = "unitPrice", type = "number" },
            new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } }, new { path = "country", type = "string" },
            new { path = "timestamp", type = "datetime", required = true }, new { path = "eventType", type = "string", required = true },
        },
    };

    private static Dictionary<string, string> RetailFields() => new()
    {
        ["mapping"] = """{"InvoiceNo":"invoiceNo","StockCode":"stockCode","Description":"description","Quantity":"quantity","InvoiceDate":"timestamp","UnitPrice":"unitPrice","CustomerID":"customerId","Country":"country"}""",
        ["constants"] = """{"eventType":"commerce.purchase"}""",
    };

    internal static async Task<string> DatasetAsync(HttpClient api, object schema)
    {
        var s = (await CreateAsync(api, "/api/v1/schemas", schema)).Id();
        return (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Data"), schemaId = s })).Id();
    }

    internal static async Task<HttpResponseMessage> UploadAsync(HttpClient api, string datasetId, string file, Dictionary<string, string>? fields = null)
    {
        using var form = new MultipartFormDataContent();
        var content = new StreamContent(File.OpenRead(file));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, "file", Path.GetFileName(file));
        foreach (var (k, v) in fields ?? []) form.Add(new StringContent(v), k);
        return await api.PostAsync($"/api/v1/datasets/{datasetId}/batches", form);
    }

    internal static async Task<JsonNode> IngestAsync(HttpClient api, string datasetId, string file, Dictionary<string, string>? fields = null)
    {
        var response = await UploadAsync(api, datasetId, file, fields);
        var body = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {body.ToJsonString()}");
        return await PortalHost.PollAsync(api, $"/api/v1/batches/{body.Id()}", Final);
    }

    private static string Write(string dir, string name, string content)
    {
        var p = Path.Combine(dir, name);
        File.WriteAllText(p, content);
        return p;
    }

    private static object? Duck(string sql)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    }
}
