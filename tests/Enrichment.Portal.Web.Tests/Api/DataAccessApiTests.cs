using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>Data access: a dataset's rows streamed as JSON lines, CSV or Parquet (for notebooks and the Python client).</summary>
public sealed class DataAccessApiTests(PortalHost host)
{
    private async Task<(string DatasetId, int Rows)> PeopleAsync(HttpClient api)
    {
        var datasetId = (await CreateAsync(api, "/api/v1/datasets", new
        {
            name = Unique("Data access"),
            schemaId = (await CreateAsync(api, "/api/v1/schemas", BatchIngestionApiTests.PeopleSchema(Unique("Data access people")))).Id(),
        })).Id();
        using var dir = TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "people.csv");
        await File.WriteAllTextAsync(csv, "id,email,age,vip,person.tier\n" +
            "C-1,a@example.com,31,true,gold\n" +
            "C-2,\"b,\"\"quoted\"\"@example.com\",,false,silver\n" +
            string.Concat(Enumerable.Range(3, 998).Select(i => $"C-{i},p{i}@example.com,{20 + i % 50},{(i % 2 == 0 ? "true" : "false")},gold\n")));
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        return (datasetId, 1000);
    }

    [Fact]
    public async Task Rows_stream_as_json_lines_csv_and_parquet_with_columns_offset_and_limit()
    {
        using var api = host.Api();
        var (id, rows) = await PeopleAsync(api);

        var files = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{id}/files"));
        var file = files["items"]!.AsArray().Single()!;
        Assert.EndsWith(".parquet", file["name"]!.GetValue<string>());
        Assert.True(file["bytes"]!.GetValue<long>() > 0);

        // JSON lines (the default): typed values, nulls, one object per line.
        var jsonl = await api.GetAsync($"/api/v1/datasets/{id}/data");
        Assert.Equal(HttpStatusCode.OK, jsonl.StatusCode);
        Assert.Equal("application/x-ndjson", jsonl.Content.Headers.ContentType!.MediaType);
        var lines = (await jsonl.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(rows, lines.Length);
        var first = JsonNode.Parse(lines[0])!;
        Assert.Equal("C-1", first["id"]!.GetValue<string>());
        Assert.Equal(31, first["age"]!.GetValue<long>());
        Assert.True(first["vip"]!.GetValue<bool>());
        Assert.Equal("gold", first["person.tier"]!.GetValue<string>());
        var second = JsonNode.Parse(lines[1])!;
        Assert.Null(second["age"]);
        Assert.Equal("b,\"quoted\"@example.com", second["email"]!.GetValue<string>());

        // CSV through the Accept header: a header line, RFC 4180 quoting, empty cells for nulls.
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/datasets/{id}/data?columns=id,email,age&limit=2");
        csvRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var csv = await api.SendAsync(csvRequest);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        Assert.Equal("id,email,age\nC-1,a@example.com,31\nC-2,\"b,\"\"quoted\"\"@example.com\",\n", await csv.Content.ReadAsStringAsync());

        // Paging.
        var page = (await (await api.GetAsync($"/api/v1/datasets/{id}/data?format=jsonl&columns=id&offset=998&limit=10")).Content.ReadAsStringAsync())
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["C-999", "C-1000"], page);

        // Parquet: one file with every row, read back with DuckDB.
        var parquet = await api.GetAsync($"/api/v1/datasets/{id}/data?format=parquet");
        Assert.Equal("application/vnd.apache.parquet", parquet.Content.Headers.ContentType!.MediaType);
        using var dir = TestData.NewTempDir();
        var path = Path.Combine(dir.Path, "x.parquet");
        await File.WriteAllBytesAsync(path, await parquet.Content.ReadAsByteArrayAsync());
        using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT count(*), count(age), CAST(sum(CASE WHEN vip THEN 1 ELSE 0 END) AS BIGINT) FROM read_parquet('{path}')";
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        Assert.Equal(rows, Convert.ToInt64(r.GetValue(0)));
        Assert.Equal(rows - 1, Convert.ToInt64(r.GetValue(1)));
        Assert.Equal(1 + 499, Convert.ToInt64(r.GetValue(2)));
    }

    [Fact]
    public async Task Bad_requests_get_problems_not_500s()
    {
        using var api = host.Api();
        var (id, _) = await PeopleAsync(api);
        async Task Expect(HttpStatusCode status, string url, string mention)
        {
            var response = await api.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{url}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains(mention, body);
        }
        await Expect(HttpStatusCode.NotFound, "/api/v1/datasets/ds_missing/data", "ds_missing");
        await Expect(HttpStatusCode.NotFound, "/api/v1/datasets/ds_missing/files", "ds_missing");
        await Expect(HttpStatusCode.BadRequest, $"/api/v1/datasets/{id}/data?format=xlsx", "format");
        await Expect(HttpStatusCode.BadRequest, $"/api/v1/datasets/{id}/data?offset=-1", "offset");
        await Expect(HttpStatusCode.BadRequest, $"/api/v1/datasets/{id}/data?limit=-5", "limit");
        await Expect(HttpStatusCode.UnprocessableEntity, $"/api/v1/datasets/{id}/data?columns=id,nope", "nope");
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Api(null).GetAsync($"/api/v1/datasets/{id}/data")).StatusCode);

        // Another sandbox's key sees no such dataset.
        using var other = host.Api(await host.KeyAsync("viewer", "data-access-other"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/datasets/{id}/data")).StatusCode);
    }
}
