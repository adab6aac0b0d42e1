using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Enrichment.Portal.Tests.LakeSeed;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>Bank Marketing (the rows of every 7th day, customers C-n) ingested into a profile-enabled dataset: the source of the ONNX tests.</summary>
public sealed class OnnxFixture(PortalHost host) : IAsyncLifetime
{
    public string DatasetId { get; private set; } = "";
    public string File { get; } = Path.Combine(Path.GetTempPath(), "ep-testdata", "onnx", "bank_seventh.parquet");
    public long Rows { get; private set; }

    public async ValueTask InitializeAsync()
    {
        using var api = host.Api();
        var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new { name = Unique("Bank onnx schema"), @class = "profile", fields = BankFields }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        DatasetId = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name = Unique("Bank onnx"), schemaId = schema }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{DatasetId}/enable-profile", null)).StatusCode);
        Directory.CreateDirectory(Path.GetDirectoryName(File)!);
        if (!System.IO.File.Exists(File)) Sql($"COPY (SELECT * FROM read_parquet('{BankParquet()}') WHERE day % 7 = 0) TO '{File}' (FORMAT parquet)");
        var batch = await BatchIngestionApiTests.IngestAsync(api, DatasetId, File);
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());
        Rows = batch["recordsWritten"]!.GetValue<long>();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Models trained elsewhere: the ONNX test models (scripts/make-onnx-test-models.py) uploaded as versions of custom models, mapped,
/// scored into insights.&lt;model&gt;, predicted one profile at a time; scores equal ONNX Runtime called directly here (1e-6).
/// Bad files and mappings are 422 naming the part at fault.
/// </summary>
public sealed class OnnxModelsApiTests(PortalHost host, OnnxFixture bank) : IClassFixture<OnnxFixture>
{
    public static string Model(string name) => TestData.Shipped("onnx/" + name);

    public static async Task<HttpResponseMessage> UploadAsync(HttpClient api, string modelId, byte[] file, object? mapping, string? path = null)
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, "file", "model.onnx");
        if (mapping is not null) form.Add(new StringContent(mapping as string ?? JsonSerializer.Serialize(mapping)), "mapping");
        return await api.PostAsync(path ?? $"/api/v1/models/{modelId}/versions", form);
    }

    private async Task<string> CustomModelAsync(HttpClient api, string name) =>
        (await ScoringFixture.Post(api, "/api/v1/models", new { name, recipe = "custom", source = new { datasetId = bank.DatasetId } }))["id"]!.GetValue<string>();

    /// <summary>The rows of the sample customers from the source file (what ONNX Runtime is fed directly).</summary>
    private Dictionary<string, (float Age, float Balance, float Duration, float Campaign)> SampleRows()
    {
        using var c = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT customerId, age, balance, duration, campaign FROM read_parquet('{bank.File}') ORDER BY hash(customerId) LIMIT 8";
        using var r = cmd.ExecuteReader();
        var d = new Dictionary<string, (float, float, float, float)>();
        while (r.Read()) d[r.GetString(0)] = (float.Parse(r.GetValue(1).ToString()!), float.Parse(r.GetValue(2).ToString()!), float.Parse(r.GetValue(3).ToString()!), float.Parse(r.GetValue(4).ToString()!));
        Assert.Equal(8, d.Count);
        return d;
    }

    private static async Task<JsonNode> ScoreAsync(HttpClient api, string modelId, string datasetId)
    {
        var response = await api.PostAsJsonAsync($"/api/v1/models/{modelId}/score", new { target = new { datasetId } });
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, json.ToJsonString());
        var run = await PortalHost.PollAsync(api, $"/api/v1/scoring-runs/{json["runId"]}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        return run;
    }

    private async Task AssertScoresAsync(HttpClient api, string modelId, string modelName, string versionId, Func<(float Age, float Balance, float Duration, float Campaign), double> expected)
    {
        var run = await ScoreAsync(api, modelId, bank.DatasetId);
        Assert.Equal(bank.Rows, run["rowsScored"]!.GetValue<long>());
        Assert.Equal(bank.Rows, run["profilesUpdated"]!.GetValue<long>());
        Assert.Equal(versionId, run["versionId"]!.GetValue<string>());
        Assert.Equal(1.0, run["distribution"]!["fractions"]!.AsArray().Sum(f => f!.GetValue<double>()), 6);
        Assert.True(run["psi"]!.GetValue<double>() < 0.01, "scored on the upload's reference data: no drift, psi " + run["psi"]);
        foreach (var (customer, row) in SampleRows())
        {
            var profile = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id={customer}"));
            var insight = profile["insights"]![modelName]!;
            var want = expected(row);
            Assert.Equal(want, insight["score"]!.GetValue<double>(), 1e-6);
            Assert.Equal(versionId, insight["modelVersion"]!.GetValue<string>());
            var predicted = await PortalHost.JsonAsync(await api.PostAsJsonAsync($"/api/v1/models/{modelId}/predict", new { @namespace = "CRMID", id = customer }));
            Assert.Equal(want, predicted["score"]!.GetValue<double>(), 1e-6);
            Assert.Equal(want, predicted["insight"]!["score"]!.GetValue<double>(), 1e-6);
        }
    }

    [Fact]
    public async Task A_logistic_regression_maps_its_inputs_by_name_and_scores_like_onnx_runtime_directly()
    {
        using var api = host.Api();
        var name = "onnx lr " + Guid.NewGuid().ToString("N")[..6];
        var id = await CustomModelAsync(api, name);
        var file = await System.IO.File.ReadAllBytesAsync(Model("logreg.onnx"));

        var inspect = await PortalHost.JsonAsync(await UploadAsync(api, id, file, null, $"/api/v1/models/{id}/versions/inspect"));
        Assert.Equal(["age", "balance", "duration"], inspect["signature"]!["inputs"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()));
        Assert.Equal("age", inspect["suggested"]!["inputs"]!["age"]![0]!.GetValue<string>());
        Assert.Equal("probabilities", inspect["suggested"]!["output"]!.GetValue<string>());
        Assert.Equal(1, inspect["suggested"]!["outputIndex"]!.GetValue<int>());

        var response = await UploadAsync(api, id, file, new { output = "probabilities", outputIndex = 1, insight = "score" });
        var version = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, version.ToJsonString());
        Assert.True(version["active"]!.GetValue<bool>());
        Assert.Equal([-1, 1], version["inputs"]![0]!["shape"]!.AsArray().Select(d => d!.GetValue<int>()));
        Assert.Equal(bank.Rows, version["referenceRows"]!.GetValue<long>());
        var model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{id}"));
        Assert.Equal(version["versionId"]!.GetValue<string>(), model["activeVersionId"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await api.PostAsync($"/api/v1/models/{id}/train", null)).StatusCode);

        using var session = new InferenceSession(file);
        await AssertScoresAsync(api, id, name, version["versionId"]!.GetValue<string>(), row =>
        {
            NamedOnnxValue In(string n, float v) => NamedOnnxValue.CreateFromTensor(n, new DenseTensor<float>(new[] { v }, [1, 1]));
            using var results = session.Run([In("age", row.Age), In("balance", row.Balance), In("duration", row.Duration)], ["probabilities"]);
            return results.First().AsTensor<float>()[0, 1];
        });
    }

    [Fact]
    public async Task A_tree_ensemble_with_a_zipmap_output_scores_the_positive_class_like_onnx_runtime_directly_and_a_second_version_activates()
    {
        using var api = host.Api();
        var name = "onnx trees " + Guid.NewGuid().ToString("N")[..6];
        var id = await CustomModelAsync(api, name);
        var file = await System.IO.File.ReadAllBytesAsync(Model("tree_classifier.onnx"));
        var response = await UploadAsync(api, id, file, new { inputs = new { input = new[] { "age", "duration", "campaign" } } });
        var version = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, version.ToJsonString());
        Assert.Equal("output_probability", version["mapping"]!["output"]!.GetValue<string>());
        Assert.Equal("sequence-map", version["outputs"]!.AsArray().Single(o => o!["name"]!.GetValue<string>() == "output_probability")!["kind"]!.GetValue<string>());

        using var session = new InferenceSession(file);
        await AssertScoresAsync(api, id, name, version["versionId"]!.GetValue<string>(), row =>
        {
            var input = NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(new[] { row.Age, row.Duration, row.Campaign }, [1, 3]));
            using var results = session.Run([input], ["output_probability"]);
            return results.First().AsEnumerable<DisposableNamedOnnxValue>().First().AsDictionary<long, float>()[1];
        });

        // A second version (the regression trees, as a value) lands inactive; activating it makes scoring use it.
        var second = await PortalHost.JsonAsync(await UploadAsync(api, id, await System.IO.File.ReadAllBytesAsync(Model("tree_regressor.onnx")),
            new { inputs = new { input = new[] { "age", "balance" } }, insight = "spend" }));
        Assert.False(second["active"]!.GetValue<bool>(), second.ToJsonString());
        Assert.Equal(2, second["number"]!.GetValue<int>());
        Assert.Equal("value", second["mapping"]!["insightKind"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/models/{id}/versions/{second["versionId"]}/activate", null)).StatusCode);
        var run = await ScoreAsync(api, id, bank.DatasetId);
        Assert.Equal(second["versionId"]!.GetValue<string>(), run["versionId"]!.GetValue<string>());
        var profile = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id={SampleRows().Keys.First()}"));
        var spend = profile["insights"]![name]!["spend"]!.GetValue<double>();
        Assert.Contains(spend, new[] { 10.0 + 120 + 15.5, 10.0 + 120 + 240.25, 10.0 + 310 + 15.5, 10.0 + 310 + 240.25 });
    }

    [Fact]
    public async Task Bad_files_and_mappings_are_422_naming_the_part_at_fault()
    {
        using var api = host.Api();
        var id = await CustomModelAsync(api, "onnx bad " + Guid.NewGuid().ToString("N")[..6]);
        var lr = await System.IO.File.ReadAllBytesAsync(Model("logreg.onnx"));

        async Task<JsonNode> Refused(byte[] file, object? mapping, string field, string contains)
        {
            var response = await UploadAsync(api, id, file, mapping);
            var json = await PortalHost.JsonAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{(int)response.StatusCode} {json.ToJsonString()}");
            Assert.True(json["errors"]?[field] is not null, $"errors.{field} in {json.ToJsonString()}");
            Assert.Contains(contains, json["errors"]![field]![0]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
            return json;
        }

        await Refused("this is not a model"u8.ToArray(), null, "file", "not an ONNX model");
        await Refused(lr[..(lr.Length / 2)], null, "file", "not an ONNX model");
        await Refused(lr, new { inputs = new { age = "nope", balance = "balance", duration = "duration" } }, "inputs.age", "not a field");
        await Refused(lr, new { inputs = new { balance = "balance", duration = "duration" } }, "inputs.age", "not mapped");
        await Refused(lr, new { inputs = new { age = "job", balance = "balance", duration = "duration" } }, "inputs.age", "type mismatch");
        await Refused(lr, new { output = "nothing" }, "output", "no output");
        await Refused(lr, new { outputIndex = 5 }, "outputIndex", "outside");
        await Refused(lr, new { insight = "bad name!" }, "insight", "insight name");
        await Refused(lr, new { output = "label", kind = "class", insight = "modelVersion" }, "insight", "modelVersion");
        await Refused(await System.IO.File.ReadAllBytesAsync(Model("bad_shape.onnx")), null, "inputs.x", "[N,2,3]");
        await Refused(await System.IO.File.ReadAllBytesAsync(Model("tree_classifier.onnx")), new { inputs = new { input = new[] { "age", "duration" } } }, "inputs.input", "3 column");

        var malformed = await UploadAsync(api, id, lr, "{ not json");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var noFile = await api.PostAsync($"/api/v1/models/{id}/versions", new MultipartFormDataContent { { new StringContent("{}"), "mapping" } });
        Assert.Equal(HttpStatusCode.BadRequest, noFile.StatusCode);
        var model = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/models/{id}"));
        Assert.Empty(model["versions"]!.AsArray());

        // Only custom models take ONNX versions.
        var other = (await ScoringFixture.Post(api, "/api/v1/models", new { name = "onnx seg " + Guid.NewGuid().ToString("N")[..6], recipe = "segmentation", source = new { datasetId = bank.DatasetId } }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await UploadAsync(api, other, lr, null)).StatusCode);
    }

    [Fact]
    public void A_model_over_the_size_limit_is_refused()
    {
        var service = new OnnxVersionService(null!, null!, null!, null!, Options.Create(new OnnxOptions { MaxModelBytes = 500 }), Options.Create(new Core.PortalOptions()), TimeProvider.System);
        var big = System.IO.File.ReadAllBytes(Model("logreg.onnx"));
        Assert.True(big.Length > 500);
        var e = Assert.Throws<CatalogException>(() => service.ReadSignature(big));
        Assert.Equal(CatalogErrorKind.Rule, e.Kind);
        Assert.Contains("over the limit of 500 bytes", e.Message);
        Assert.NotNull(service.ReadSignature(System.IO.File.ReadAllBytes(Model("bad_shape.onnx"))));
    }
}
