using System.Net;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Notebooks;
using Enrichment.Portal.Web.Tests.Api;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Notebooks;

/// <summary>
/// Customers whose churn depends on tenure and plan, ingested into a profile dataset, and a churn model trained on
/// them in the portal (so there is a training run to open in a notebook).
/// </summary>
public sealed class NotebookFixture(PortalHost host) : IAsyncLifetime
{
    public const int Rows = 600;
    public string Tag { get; } = Guid.NewGuid().ToString("N")[..8];
    public string DatasetId { get; private set; } = "";
    public string DatasetName { get; private set; } = "";
    public string ModelName { get; private set; } = "";
    public string RunId { get; private set; } = "";
    public IReadOnlyList<string> Features { get; } = ["tenure", "plan", "monthlyCharges"];

    public async ValueTask InitializeAsync()
    {
        using var api = host.Api();
        var schema = (await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("Notebook people"), @class = "profile",
            fields = new object[]
            {
                new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "email", type = "string", identity = new { @namespace = "Email" } },
                new { path = "tenure", type = "integer" }, new { path = "plan", type = "string" },
                new { path = "monthlyCharges", type = "number" }, new { path = "churned", type = "string" },
            },
        })).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        DatasetName = "Notebook people " + Tag;
        DatasetId = (await CreateAsync(api, "/api/v1/datasets", new { name = DatasetName, schemaId = schema })).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{DatasetId}/enable-profile", null)).StatusCode);
        using var dir = TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "people.csv");
        var rng = new Random(16);
        var lines = new List<string> { "customerId,email,tenure,plan,monthlyCharges,churned" };
        for (var i = 1; i <= Rows; i++)
        {
            var tenure = rng.Next(1, 73);
            var plan = new[] { "basic", "plus", "pro" }[rng.Next(3)];
            var p = tenure < 12 ? 0.75 : plan == "basic" ? 0.35 : 0.08;
            lines.Add($"{Customer(i)},p{i}.{Tag}@example.com,{tenure},{plan},{20 + rng.NextDouble() * 80:F2},{(rng.NextDouble() < p ? "yes" : "no")}");
        }
        await File.WriteAllLinesAsync(csv, lines);
        var batch = await BatchIngestionApiTests.IngestAsync(api, DatasetId, csv);
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());

        ModelName = "nb churn " + Tag;
        var model = await ScoringFixture.Post(api, "/api/v1/models", new
        {
            name = ModelName, recipe = "churn", source = new { datasetId = DatasetId }, label = new { field = "churned", positive = "yes" }, features = Features,
        });
        var train = await PortalHost.JsonAsync(await api.PostAsync($"/api/v1/models/{model.Id()}/train", null));
        RunId = train["runId"]!.GetValue<string>();
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{RunId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(5));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
    }

    public string Customer(int i) => $"C-{Tag}-{i}";

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>"Open in notebook": the generated notebooks, run headless with nbclient against the live portal, put scores on profiles.</summary>
public sealed class NotebookTests(PortalHost host, NotebookFixture data) : IClassFixture<NotebookFixture>
{
    private static void Report(string text) => Xunit.TestContext.Current.TestOutputHelper?.WriteLine(text);

    private static JsonObject Parse(string ipynb) => JsonNode.Parse(ipynb)!.AsObject();

    private static string CodeOf(JsonObject nb) => string.Join("\n", nb["cells"]!.AsArray()
        .Where(c => c!["cell_type"]!.GetValue<string>() == "code")
        .Select(c => string.Concat(c!["source"]!.AsArray().Select(l => l!.GetValue<string>()))));

    private async Task<string> DownloadAsync(HttpClient api, string url)
    {
        var response = await api.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        Assert.Equal(NotebookTemplates.ContentType, response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith(".ipynb", response.Content.Headers.ContentDisposition!.FileNameStar ?? response.Content.Headers.ContentDisposition.FileName!.Trim('"'));
        return text;
    }

    /// <summary>Runs the notebook with nbclient; the client is fetched from the portal into a fresh folder (as on a machine without the repository).</summary>
    private (int Code, string Output) Execute(string ipynb, string key)
    {
        using var dir = TestData.NewTempDir();
        var input = Path.Combine(dir.Path, "in.ipynb");
        File.WriteAllText(input, ipynb);
        var runner = Path.Combine(TestData.RepoRoot, "clients", "python", "tests", "run_notebook.py");
        var result = PythonRunner.Run([runner, input, Path.Combine(dir.Path, "out.ipynb")], new Dictionary<string, string>
        {
            ["EP_API_KEY"] = key,
            ["EP_CLIENT_DIR"] = Path.Combine(dir.Path, "client"),
            ["HOME"] = dir.Path,
            ["JUPYTER_RUNTIME_DIR"] = Path.Combine(dir.Path, "runtime"),
        }, TimeSpan.FromMinutes(8), dir.Path);
        Report(result.Output);
        return result;
    }

    private async Task<int> ProfilesWithAsync(HttpClient api, string insight, int sample)
    {
        var found = 0;
        foreach (var i in Enumerable.Range(1, sample).Select(k => 1 + (k - 1) * (NotebookFixture.Rows - 1) / Math.Max(1, sample - 1)))
        {
            var profile = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id={data.Customer(i)}"));
            if (profile["insights"]?[insight] is JsonObject got)
            {
                var score = got["score"]!.GetValue<double>();
                Assert.InRange(score, 0, 1);
                Assert.StartsWith("notebook-", got["modelVersion"]!.GetValue<string>());
                found++;
            }
        }
        return found;
    }

    [Fact]
    public async Task The_dataset_notebook_runs_headless_and_its_scores_land_on_every_profile()
    {
        var missing = PythonRunner.Missing("pandas", "sklearn", "nbclient", "ipykernel");
        if (missing is not null) Assert.Skip(missing);
        var key = await host.KeyAsync("scientist");
        using var api = host.Api(key);
        var insight = "nb ds " + data.Tag;
        var ipynb = await DownloadAsync(api, $"/api/v1/datasets/{data.DatasetId}/notebook?insight={Uri.EscapeDataString(insight)}");
        Assert.DoesNotContain(key, ipynb);
        Assert.DoesNotContain(PortalHost.AdminKey, ipynb);
        var nb = Parse(ipynb);
        var code = CodeOf(nb);
        Assert.Contains($"DATASET_ID = \"{data.DatasetId}\"", code);
        Assert.Contains("IDENTITY_COLUMN = \"customerId\"", code);
        Assert.Contains("IDENTITY_NAMESPACE = \"CRMID\"", code);
        Assert.Contains("LABEL = \"churned\"", code); // picked by name
        Assert.Contains("EXCLUDE = [\"email\"]", code); // the other identity is never a feature
        Assert.Contains($"INSIGHT = \"{insight}\"", code);
        Assert.Contains($"BASE_URL = os.environ.get(\"EP_BASE_URL\", \"{host.BaseUri.ToString().TrimEnd('/')}\")", code);
        Assert.Contains("os.environ.get(\"EP_API_KEY\")", code);
        Assert.Equal(NotebookTemplates.DatasetTemplate, nb["metadata"]!["enrichment_portal"]!["template"]!.GetValue<string>());

        var (exit, output) = await Task.Run(() => Execute(ipynb, key));
        Assert.True(exit == 0, output);
        Assert.Contains($"{NotebookFixture.Rows} rows x 6 columns", output);
        Assert.Matches(@"Held-out AUC: 0\.\d{4}", output);
        Assert.Contains($"Scored {NotebookFixture.Rows} rows", output);
        Assert.Contains($"success, {NotebookFixture.Rows} written, 0 failed", output);
        Assert.Contains("'score':", output); // the last cell shows the insight of one profile

        // Every profile got the insight (the import wrote one record per person); a spread of them checked one by one.
        using var admin = host.Api();
        var imports = await PortalHost.JsonAsync(await admin.GetAsync("/api/v1/insights/imports"));
        var mine = imports["items"]!.AsArray().Single(i => i!["name"]!.GetValue<string>() == insight)!;
        Assert.Equal(NotebookFixture.Rows, mine["recordCount"]!.GetValue<long>());
        Assert.Equal(12, await ProfilesWithAsync(admin, insight, 12));
    }

    [Fact]
    public async Task The_training_run_notebook_starts_from_the_runs_features_and_label_and_pushes_its_own_insight()
    {
        var missing = PythonRunner.Missing("pandas", "sklearn", "nbclient", "ipykernel");
        if (missing is not null) Assert.Skip(missing);
        var key = await host.KeyAsync("scientist");
        using var api = host.Api(key);
        var ipynb = await DownloadAsync(api, $"/api/v1/training-runs/{data.RunId}/notebook");
        Assert.DoesNotContain(key, ipynb);
        var code = CodeOf(Parse(ipynb));
        Assert.Contains("FEATURES = [\"tenure\", \"plan\", \"monthlyCharges\"]", code);
        Assert.Contains("LABEL = \"churned\"", code);
        Assert.Contains("POSITIVE = \"yes\"", code);
        Assert.Contains($"RUN_ID = \"{data.RunId}\"", code);
        Assert.Matches("PORTAL_METRICS = \\{.*\"auc\": 0\\.\\d+", code);
        var insight = data.ModelName + " notebook";
        Assert.Contains($"INSIGHT = \"{insight}\"", code);

        var (exit, output) = await Task.Run(() => Execute(ipynb, key));
        Assert.True(exit == 0, output);
        Assert.Matches(@"This notebook: auc 0\.\d{4}; the portal's run \w+: auc 0\.\d{4}", output);
        Assert.Contains($"success, {NotebookFixture.Rows} written, 0 failed", output);
        using var admin = host.Api();
        Assert.Equal(5, await ProfilesWithAsync(admin, insight, 5));
        // The portal's own insight and the notebook's sit side by side on a profile.
        var profile = await PortalHost.JsonAsync(await admin.GetAsync($"/api/v1/profiles?namespace=CRMID&id={data.Customer(1)}"));
        Assert.NotNull(profile["insights"]![insight]);
    }

    [Fact]
    public async Task Notebook_requests_with_bad_names_are_refused_with_problems_and_no_key_is_ever_written()
    {
        using var api = host.Api();
        var missing = await api.GetAsync("/api/v1/datasets/ds_missing/notebook");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var label = await api.GetAsync($"/api/v1/datasets/{data.DatasetId}/notebook?label=nope");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, label.StatusCode);
        Assert.Contains("nope", await label.Content.ReadAsStringAsync());
        var insight = await api.GetAsync($"/api/v1/datasets/{data.DatasetId}/notebook?insight=a%2Fb");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, insight.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/training-runs/run_missing/notebook")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Api(null).GetAsync($"/api/v1/datasets/{data.DatasetId}/notebook")).StatusCode);

        // The client the notebooks fetch.
        var zip = await api.GetAsync("/api/v1/clients/python");
        Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        using var archive = new System.IO.Compression.ZipArchive(await zip.Content.ReadAsStreamAsync());
        var names = archive.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("enrichment_portal/__init__.py", names);
        Assert.Contains("enrichment_portal/client.py", names);
        var shipped = await File.ReadAllTextAsync(Path.Combine(TestData.RepoRoot, "clients", "python", "enrichment_portal", "client.py"));
        using var reader = new StreamReader(archive.GetEntry("enrichment_portal/client.py")!.Open());
        Assert.Equal(shipped, await reader.ReadToEndAsync());
    }

    [Fact]
    public void Generated_code_is_valid_python_for_names_with_quotes_backslashes_and_unicode()
    {
        var ctx = new NotebookContext
        {
            Title = "Kund*innen \"Ö\" \\ `x`", SourceText = "the dataset <b>x</b>", BaseUrl = "http://127.0.0.1:1/",
            DatasetId = "ds\"1\\", IdentityColumn = "id'\"\\\n", IdentityNamespace = "CRMID", Label = "ch\u00fcrn \"y\"", Positive = null,
            Features = ["a\"b", "c\\d", "e\u2028f"], Exclude = [], Insight = "x y", ModelName = "m\"", RunId = "r", Recipe = "churn",
            Metrics = new Dictionary<string, double> { ["auc"] = 0.75, ["bad"] = double.NaN },
        };
        foreach (var template in new[] { NotebookTemplates.DatasetTemplate, NotebookTemplates.TrainingRunTemplate })
        {
            var text = NotebookTemplates.Generate(template, ctx, DateTimeOffset.UnixEpoch);
            Assert.DoesNotContain("__EP_", text);
            Assert.DoesNotContain("{{EP_", text);
            var nb = Parse(text);
            Assert.Equal(4, nb["nbformat"]!.GetValue<int>());
            var code = CodeOf(nb);
            Assert.Contains("POSITIVE = None", code);
            Assert.Contains("DATASET_ID = \"ds\\\"1\\\\\"", code);
            if (template == NotebookTemplates.TrainingRunTemplate) Assert.Contains("PORTAL_METRICS = {\"auc\": 0.75}", code);
            if (PythonRunner.Missing() is not null) continue;
            // Python itself parses every code cell and reads back the values.
            using var dir = TestData.NewTempDir();
            var path = Path.Combine(dir.Path, "nb.ipynb");
            File.WriteAllText(path, text);
            var check = "import ast, json, sys\n" +
                        "cells = [''.join(c['source']) for c in json.load(open(sys.argv[1]))['cells'] if c['cell_type'] == 'code']\n" +
                        "for c in cells: ast.parse(c)\n" +
                        "names = [c for c in cells if 'IDENTITY_COLUMN =' in c][0]\n" +
                        "env = {}\n" +
                        "exec(names, env)\n" +
                        "print(json.dumps([env['DATASET_ID'], env['IDENTITY_COLUMN'], env['LABEL'], env['FEATURES']]))\n";
            var (exit, output) = PythonRunner.Run(["-c", check, path], null, TimeSpan.FromMinutes(1));
            Assert.True(exit == 0, output);
            var values = JsonNode.Parse(output.Trim())!.AsArray();
            Assert.Equal(ctx.DatasetId, values[0]!.GetValue<string>());
            Assert.Equal(ctx.IdentityColumn, values[1]!.GetValue<string>());
            Assert.Equal(ctx.Label, values[2]!.GetValue<string>());
            Assert.Equal(ctx.Features, values[3]!.AsArray().Select(v => v!.GetValue<string>()));
        }
    }
}

/// <summary>The Python client's own unittest suite (clients/python/tests) against the portal on its loopback port.</summary>
public sealed class PythonClientTests(PortalHost host)
{
    [Fact]
    public async Task The_python_clients_tests_pass_against_the_real_portal()
    {
        var missing = PythonRunner.Missing("pandas");
        if (missing is not null) Assert.Skip(missing);
        var tests = Path.Combine(TestData.RepoRoot, "clients", "python", "tests");
        var (exit, output) = await Task.Run(() => PythonRunner.Run(["-m", "unittest", "discover", "-s", tests, "-v"], new Dictionary<string, string>
        {
            ["EP_BASE_URL"] = host.BaseUri.ToString(),
            ["EP_API_KEY"] = PortalHost.AdminKey,
        }, TimeSpan.FromMinutes(6), TestData.RepoRoot));
        Xunit.TestContext.Current.TestOutputHelper?.WriteLine(output);
        Assert.True(exit == 0, output);
        Assert.Matches(@"Ran ([89]|\d\d+) tests", output);
        Assert.DoesNotContain("skipped", output);
        Assert.Contains("\nOK", output);
    }
}
