using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// Every operation of the served OpenAPI document, called by every kind of caller: no key, a wrong key, each role of
/// sandbox A, an admin of sandbox B on A's real objects, and (for instance-level operations) the prod admin. The
/// expected answer of each operation comes from <see cref="Table"/>: an operation missing from it fails the test.
/// </summary>
public sealed class AuthorizationMatrixTests(PortalHost host)
{
    private static readonly string[] AllRoles = ["admin", "engineer", "scientist", "marketer", "viewer"];

    /// <summary>Who may call, as API.md says: read (every role), write (not viewers), engineer, scientist, marketer, admin, instance (admins of prod).</summary>
    private static readonly Dictionary<string, string[]> RolesOf = new()
    {
        ["read"] = AllRoles,
        ["write"] = ["admin", "engineer", "scientist", "marketer"],
        ["engineer"] = ["admin", "engineer"],
        ["scientist"] = ["admin", "scientist"],
        ["marketer"] = ["admin", "marketer"],
        ["admin"] = ["admin"],
        ["instance"] = [],
    };

    /// <summary>
    /// How B (an admin of another sandbox) may use an operation on A's objects. <c>Cross</c>: a body or query naming A's
    /// objects, with the statuses allowed; without it, an operation with a path id answers 404 and any other answer must
    /// hold none of A's objects.
    /// </summary>
    public sealed record Access(string Policy, string? Query = null, bool Costly = false,
        Func<SandboxFixture, (string? Query, object? Body)>? Cross = null, int[]? CrossStatus = null);

    private static Access R => new("read");
    private static Access E => new("engineer");
    private static Access S => new("scientist");
    private static Access M => new("marketer");

    /// <summary>THE table: one entry per operation id of the OpenAPI document.</summary>
    public static readonly Dictionary<string, Access> Table = new()
    {
        ["ListIdentityNamespaces"] = R, ["CreateIdentityNamespace"] = E, ["GetIdentityNamespace"] = R, ["DeleteIdentityNamespace"] = E,
        ["InferSchema"] = E, ["CollectRecords"] = E,
        ["GetTrainingRun"] = R, ["ListRecipes"] = R, ["GetScoringRun"] = R,
        ["ChangeOwnPassword"] = R, ["StartDiagnosticJob"] = new("admin", Query: "seconds=0"),
        ["ReprocessDatasetProfile"] = E, ["ListGuardrails"] = R,
        ["DatasetNotebook"] = R, ["SnapshotNotebook"] = R, ["TrainingRunNotebook"] = R, ["PythonClient"] = R,
        ["LoadDemo"] = new("engineer", Costly: true),
        ["ListSchemas"] = R, ["CreateSchema"] = E, ["GetSchema"] = R, ["UpdateSchema"] = E, ["EnableSchemaForProfile"] = E,
        ["ImportXdmSchema"] = E, ["ExportSchema"] = R,
        ["ListDatasets"] = R,
        ["CreateDataset"] = E with { Cross = f => (null, new { name = "x-" + f.Tag, schemaId = f.Ids["schema"] }), CrossStatus = [400, 404, 422] },
        ["GetDataset"] = R, ["DeleteDataset"] = E, ["EnableDatasetForProfile"] = E,
        ["CreateBatch"] = E, ["PreviewUpload"] = E, ["PreviewStoredRecords"] = R,
        ["ListBatches"] = R with { Cross = f => ($"datasetId={f.Ids["dataset"]}", null), CrossStatus = [200, 404] },
        ["GetBatch"] = R, ["GetBatchErrors"] = R, ["RetryBatch"] = E, ["CancelBatch"] = E, ["ListBatchFiles"] = R, ["DownloadBatchFile"] = R,
        ["RunQuery"] = S with { Cross = f => (null, new { sql = $"SELECT * FROM \"{f.TableName}\"" }), CrossStatus = [400, 404, 422] },
        ["QueryHistory"] = R, ["QueryTables"] = R, ["SaveQueryAsDataset"] = S,
        ["DatasetStats"] = S, ["ComputeDatasetStats"] = S,
        ["ListJobs"] = R, ["GetJob"] = R, ["CancelJob"] = new("write"),
        ["ListModels"] = R,
        ["CreateModel"] = S with { Cross = f => (null, new { name = "x-" + f.Tag, recipe = "segmentation", source = new { datasetId = f.Ids["dataset"] } }), CrossStatus = [400, 404, 422] },
        ["GetModel"] = R, ["TrainModel"] = S, ["ListTrainingRuns"] = R, ["CompareModelVersions"] = R with { Cross = f => ($"a={f.Ids["version"]}&b={f.Ids["version"]}", null), CrossStatus = [404] }, ["GetModelVersion"] = R,
        ["ActivateModelVersion"] = S, ["SetModelVersionThreshold"] = S with { Cross = _ => (null, new { threshold = 0.5 }), CrossStatus = [404] }, ["ScoreModel"] = S, ["ListScoringRuns"] = R,
        ["GetModelSchedule"] = R, ["SetModelSchedule"] = S with { Cross = _ => (null, new { cron = "0 3 * * *" }), CrossStatus = [404] }, ["ClearModelSchedule"] = S, ["PredictProfile"] = S with { Cross = f => ($"namespace=CRMID&id=C-{f.Tag}-1", new { @namespace = "CRMID", id = $"C-{f.Tag}-1" }), CrossStatus = [404] },
        ["ListSandboxes"] = R, ["CreateSandbox"] = new("instance"),
        ["ListApiKeys"] = new("admin"),
        ["CreateApiKey"] = new("admin") { Cross = f => (null, new { name = "x", role = "admin", sandbox = f.Sandbox }), CrossStatus = [403] },
        ["RevokeApiKey"] = new("admin"),
        ["ListUsers"] = new("admin"),
        // Issue #21: a taken name is a 409 that tells nothing; an existing user joins another sandbox by an instance admin only.
        ["CreateUser"] = new("admin") { Cross = f => (null, new { userName = f.UserName, password = "attacker-password-1", role = "admin" }), CrossStatus = [409] },
        ["AddUserToSandbox"] = new("instance") { Cross = f => (null, new { userName = f.UserName, role = "admin" }), CrossStatus = [403] },
        // Another user's account: admins only (a user changes their own password, with the old one).
        ["UpdateUser"] = new("admin"),
        ["GetProfileByIdentity"] = R with { Cross = f => ($"namespace=CRMID&id=C-{f.Tag}-1", null), CrossStatus = [404] },
        ["DeleteProfile"] = E with { Cross = f => ($"namespace=CRMID&id=C-{f.Tag}-2", null), CrossStatus = [404] },
        ["GetProfileStats"] = R, ["SampleProfiles"] = R, ["GetProfile"] = R, ["GetProfileGraph"] = R, ["GetProfileEvents"] = R,
        ["SnapshotProfiles"] = E, ["GetNewestSnapshot"] = R,
        ["ListMergePolicies"] = R,
        ["CreateMergePolicy"] = E with { Cross = f => (null, new { name = "x-" + f.Tag, method = "dataset-precedence", datasetOrder = new[] { f.Ids["dataset"] } }), CrossStatus = [404, 422] },
        ["GetIngestionLatency"] = R, ["ListLatencyBatches"] = R,
        ["ImportScores"] = S, ["ListScoreImports"] = R, ["PreviewScores"] = S,
        ["ListDatasetFiles"] = R, ["ReadDatasetData"] = R with { Query = "format=csv" }, ["ReadNewestSnapshot"] = R,
        ["ListSegments"] = R,
        ["CreateSegment"] = M, ["EstimateSegment"] = R, ["SegmentFields"] = R, ["GetSegment"] = R, ["UpdateSegment"] = M, ["DeleteSegment"] = M,
        ["EvaluateSegment"] = M, ["EvaluateAllSegments"] = M, ["SegmentMembers"] = R, ["SegmentChanges"] = R,
        ["ListDestinations"] = R,
        ["CreateDestination"] = M with { Cross = f => (null, new { name = "x-" + f.Tag, type = "file", target = "x-" + f.Tag, format = "csv", segmentIds = new[] { f.Ids["segment"] } }), CrossStatus = [400, 404, 422] },
        ["GetDestination"] = R, ["RunDestination"] = M, ["UpdateDestination"] = M, ["DeleteDestination"] = M, ["ResendDeadLetter"] = M,
        ["SegmentFieldValues"] = R with { Query = "path=name" },
        // Multipart uploads: a request without the file is refused (400) before any lookup, which tells nothing about A's model.
        ["InspectOnnxModel"] = S with { Cross = _ => (null, null), CrossStatus = [400, 404] },
        ["UploadOnnxVersion"] = S with { Cross = _ => (null, null), CrossStatus = [400, 404] },
    };

    private sealed record Operation(string Method, string Path, string Id)
    {
        public bool HasIds => Path.Contains('{');
    }

    private async Task<List<Operation>> OperationsAsync()
    {
        using var api = host.Api();
        var doc = await PortalHost.JsonAsync(await api.GetAsync("/openapi/v1.json"));
        var ops = new List<Operation>();
        foreach (var (path, item) in doc["paths"]!.AsObject())
            foreach (var (method, op) in item!.AsObject())
                if (method is "get" or "post" or "put" or "patch" or "delete")
                    ops.Add(new Operation(method.ToUpperInvariant(), path, op!["operationId"]?.GetValue<string>() ?? $"{method} {path}"));
        return ops;
    }

    /// <summary>The path with A's real objects (<paramref name="real"/>) or ids that exist nowhere.</summary>
    private static string Url(Operation op, SandboxFixture a, bool real, string? query)
    {
        var segments = op.Path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (!segments[i].StartsWith('{')) continue;
            var kind = SandboxFixture.KindOf(segments[i - 1], segments[i].Trim('{', '}'))
                ?? throw new InvalidOperationException($"{op.Id}: no fixture for {segments[i]} of {op.Path}; add it to SandboxFixture.KindOf");
            segments[i] = real ? Uri.EscapeDataString(a.Ids[kind]) : "nonexistent0" + kind;
        }
        var url = string.Join('/', segments);
        return query is null ? url : url + "?" + query;
    }

    private static HttpRequestMessage Request(string method, string url, object? body)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method != "GET" && method != "DELETE")
            request.Content = new StringContent(body is null ? "{}" : System.Text.Json.JsonSerializer.Serialize(body, System.Text.Json.JsonSerializerOptions.Web), Encoding.UTF8, "application/json");
        return request;
    }

    [Fact]
    public async Task Every_operation_answers_every_caller_as_the_table_says()
    {
        var ops = await OperationsAsync();
        Assert.True(ops.Count >= 100, $"only {ops.Count} operations in the OpenAPI document");
        var missing = ops.Where(o => !Table.ContainsKey(o.Id)).Select(o => $"{o.Method} {o.Path} ({o.Id})").ToList();
        Assert.True(missing.Count == 0, "Operations without an entry in the authorization table: " + string.Join(", ", missing));
        var stale = Table.Keys.Except(ops.Select(o => o.Id)).ToList();
        Assert.True(stale.Count == 0, "Table entries for operations that no longer exist: " + string.Join(", ", stale));

        var a = await SandboxFixture.BuildAsync(host, "authz-a-" + Guid.NewGuid().ToString("N")[..6]);
        var bKey = await host.KeyAsync("admin", "authz-b-" + Guid.NewGuid().ToString("N")[..6]);
        var callers = new List<(string Name, string? Key)> { ("no key", null), ("wrong key", "ep_" + Guid.NewGuid().ToString("N")) };
        callers.AddRange(AllRoles.Select(r => ($"A {r}", (string?)a.Keys[r])));

        var wrong = new ConcurrentBag<string>();
        var calls = 0;
        async Task CallAsync(string caller, string? key, Operation op, string url, object? body, Func<int, string, string?> check)
        {
            using var client = host.Api(key);
            using var response = await client.SendAsync(Request(op.Method, url, body));
            var text = await response.Content.ReadAsStringAsync();
            Interlocked.Increment(ref calls);
            var status = (int)response.StatusCode;
            var problem = status >= 500 ? "a server error" : check(status, text);
            if (problem is not null) wrong.Add($"{caller} {op.Method} {url} ({op.Id}): {status}, {problem}. {Short(text)}");
        }

        var work = new List<Func<Task>>();
        foreach (var op in ops)
        {
            var access = Table[op.Id];
            var allowed = RolesOf[access.Policy];
            // Reads see A's real objects; changes get ids that exist nowhere (an allowed caller gets 404, not a change).
            var url = Url(op, a, real: op.Method == "GET", access.Query);
            foreach (var (name, key) in callers)
            {
                var role = name.StartsWith("A ") ? name[2..] : null;
                if (role is null)
                    work.Add(() => CallAsync(name, key, op, url, null, (s, _) => s == 401 ? null : "expected 401"));
                else if (!allowed.Contains(role))
                    work.Add(() => CallAsync(name, key, op, url, null, (s, _) => s == 403 ? null : "expected 403"));
                else if (!access.Costly)
                    work.Add(() => CallAsync(name, key, op, url, null, (s, _) => s is 401 or 403 ? "expected the role to be allowed" : null));
            }
            if (access.Policy == "instance")
                work.Add(() => CallAsync("prod admin", PortalHost.AdminKey, op, url, null, (s, _) => s is 401 or 403 ? "expected an instance admin to be allowed" : null));

            // Sandbox B's admin on A's real objects.
            if (access.Costly) continue;
            var markers = a.Markers.ToList();
            if (access.Cross is { } cross)
            {
                var (q, body) = cross(a);
                var crossUrl = Url(op, a, real: true, q ?? access.Query);
                var sent = crossUrl + System.Text.Json.JsonSerializer.Serialize(body);
                work.Add(() => CallAsync("B admin", bKey, op, crossUrl, body, (s, text) =>
                    !access.CrossStatus!.Contains(s) ? $"expected one of {string.Join("/", access.CrossStatus!)}"
                    : Leak(text, markers, sent)));
            }
            if (access.Cross is null)
            {
                var realUrl = Url(op, a, real: true, access.Query);
                work.Add(() => CallAsync("B admin", bKey, op, realUrl, null, (s, text) =>
                    op.HasIds && s != 404 && !(access.Policy == "instance" && s == 403) ? "expected 404 for another sandbox's object"
                    : Leak(text, markers, realUrl)));
            }
        }
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (w, _) => await w());

        // A's objects are all still there and unchanged in kind (a change that answered 404 would show here).
        using var aAdmin = host.Api(a.Keys["admin"]);
        foreach (var path in new[] { $"datasets/{a.Ids["dataset"]}", $"schemas/{a.Ids["schema"]}", $"batches/{a.Ids["batch"]}", $"segments/{a.Ids["segment"]}",
                     $"destinations/{a.Ids["destination"]}", $"models/{a.Ids["model"]}", $"identity-namespaces/{a.Ids["namespace"]}", $"profiles/{a.Ids["profile"]}" })
            Assert.True((await aAdmin.GetAsync("/api/v1/" + path)).StatusCode == HttpStatusCode.OK, $"A's {path} is gone");
        Assert.Equal(HttpStatusCode.OK, (await aAdmin.GetAsync($"/api/v1/profiles?namespace=CRMID&id=C-{a.Tag}-2")).StatusCode);
        var users = await PortalHost.JsonAsync(await aAdmin.GetAsync("/api/v1/users"));
        Assert.Contains(users["items"]!.AsArray(), u => u!["userName"]!.GetValue<string>() == a.UserName && u["role"]!.GetValue<string>() == "viewer" && !u["disabled"]!.GetValue<bool>());
        var keys = await PortalHost.JsonAsync(await aAdmin.GetAsync("/api/v1/api-keys?limit=1000"));
        Assert.Contains(keys["items"]!.AsArray(), k => k!["id"]!.GetValue<string>() == a.Ids["apiKey"] && k["revokedAt"] is null);

        File.WriteAllText(Path.Combine(Path.GetTempPath(), "ep-authz-matrix.txt"), $"{ops.Count} operations, {calls} calls, {wrong.Count} wrong\n");
        Assert.True(wrong.IsEmpty, $"{wrong.Count} of {calls} calls answered wrongly:\n" + string.Join("\n", wrong.OrderBy(w => w)));
    }

    private static string? Leak(string body, IEnumerable<string> markers, string sent)
    {
        var leaked = markers.Where(m => !sent.Contains(m, StringComparison.Ordinal) && body.Contains(m, StringComparison.Ordinal)).ToList();
        return leaked.Count == 0 ? null : "shows sandbox A's " + string.Join(", ", leaked);
    }

    private static string Short(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
