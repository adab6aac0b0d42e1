using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary><c>POST /api/v1/schemas/infer</c>: the inferred fields become a schema that ingests the same file without rejects.</summary>
public sealed class SchemaInferenceApiTests(PortalHost host)
{
    private static async Task<HttpResponseMessage> InferAsync(HttpClient api, string file, Dictionary<string, string>? fields = null)
    {
        using var form = new MultipartFormDataContent();
        var content = new StreamContent(File.OpenRead(file));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, "file", Path.GetFileName(file));
        foreach (var (k, v) in fields ?? []) form.Add(new StringContent(v), k);
        return await api.PostAsync("/api/v1/schemas/infer", form);
    }

    [Fact]
    public async Task Superstore_inferred_through_the_api_becomes_a_profile_schema_that_ingests_all_9994_rows()
    {
        using var api = host.Api();
        var file = TestData.Shipped("superstore/superstore.csv.gz");
        var response = await InferAsync(api, file);
        var inferred = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, inferred.ToJsonString());
        Assert.Equal("csv", inferred["format"]!.GetValue<string>());
        Assert.Equal(1000, inferred["sampledRows"]!.GetValue<int>());
        var fields = inferred["fields"]!.AsArray();
        Assert.Equal(21, fields.Count);
        var customer = fields.Single(f => f!["column"]!.GetValue<string>() == "Customer ID")!;
        Assert.Equal("customerId", customer["path"]!.GetValue<string>());
        Assert.Equal("CRMID", customer["identity"]!["namespace"]!.GetValue<string>());
        Assert.True(customer["identity"]!["primary"]!.GetValue<bool>());
        Assert.Equal("date", fields.Single(f => f!["column"]!.GetValue<string>() == "Order Date")!["type"]!.GetValue<string>());
        Assert.Empty(inferred["profileBlockers"]!.AsArray());

        var schema = await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("Superstore inferred"),
            @class = "profile",
            fields = fields.Select(f => new JsonObject
            {
                ["path"] = f!["path"]!.DeepClone(), ["type"] = f["type"]!.DeepClone(), ["required"] = f["required"]!.DeepClone(),
                ["identity"] = f["identity"]?.DeepClone(),
            }).ToList(),
        });
        var ds = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Superstore"), schemaId = schema.Id() })).Id();
        var batch = await BatchIngestionApiTests.IngestAsync(api, ds, file, new() { ["mapping"] = inferred["mapping"]!.ToJsonString() });
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());
        Assert.Equal((9_994L, 9_994L, 0L), (batch["recordsRead"]!.GetValue<long>(), batch["recordsWritten"]!.GetValue<long>(), batch["recordsFailed"]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_a_bad_class_or_no_file_is_a_400_and_a_viewer_gets_403()
    {
        using var api = host.Api();
        using var tmp = TestData.NewTempDir();
        var fake = Path.Combine(tmp.Path, "fake.parquet");
        await File.WriteAllTextAsync(fake, "id,age\n1,2\n", TestContext.Current.CancellationToken);
        var bad = await InferAsync(api, fake);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("cannot be read", (await PortalHost.JsonAsync(bad))["errors"]!["file"]![0]!.GetValue<string>());

        var csv = Path.Combine(tmp.Path, "p.csv");
        await File.WriteAllTextAsync(csv, "id,email\nA,a@x.com\n", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, (await InferAsync(api, csv, new() { ["class"] = "thing" })).StatusCode);
        using var empty = new MultipartFormDataContent { { new StringContent("x"), "class" } };
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync("/api/v1/schemas/infer", empty)).StatusCode);

        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await InferAsync(viewer, csv)).StatusCode);
    }
}
