using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Tests.Api;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// One object of every kind in a sandbox of its own (a profile-enabled dataset with an ingested batch and its job, a
/// namespace, a segment, a destination, a trained model with a scoring run, a user, a key), for the authorization
/// matrix: a key of another sandbox must find none of them.
/// </summary>
public sealed class SandboxFixture
{
    public required string Sandbox { get; init; }
    public required string SandboxId { get; init; }
    public required string Tag { get; init; }
    public required Dictionary<string, string> Keys { get; init; }
    /// <summary>The fixture's objects by kind (dataset, schema, batch, job, ...).</summary>
    public required Dictionary<string, string> Ids { get; init; }
    public string? UserName { get; init; }
    /// <summary>The query table of the dataset (a name a query of another sandbox might try).</summary>
    public string TableName { get; init; } = "";

    /// <summary>Strings that must never appear in an answer given to another sandbox.</summary>
    public IEnumerable<string> Markers => Ids.Values.Where(v => v.Length >= 8).Append(SandboxId).Append($"C-{Tag}-");

    public static async Task<SandboxFixture> BuildAsync(PortalHost host, string sandbox)
    {
        var keys = new Dictionary<string, string>();
        foreach (var role in new[] { "admin", "engineer", "scientist", "marketer", "viewer" }) keys[role] = await host.KeyAsync(role, sandbox);
        using var api = host.Api(keys["admin"]);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var ids = new Dictionary<string, string>();

        ids["dataset"] = await AudiencesApiTests.PeopleAsync(api, tag, 30);
        var dataset = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{ids["dataset"]}"));
        ids["schema"] = dataset["schemaId"]!.GetValue<string>();
        var batches = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches?datasetId={ids["dataset"]}"));
        ids["batch"] = batches["items"]![0]!.Id();
        var files = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{ids["batch"]}/files"));
        ids["batchFile"] = files["items"]![0]!["name"]!.GetValue<string>();
        var jobs = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/jobs?kind=ingestion"));
        ids["job"] = jobs["items"]![0]!.Id();
        var profile = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id=C-{tag}-1"));
        ids["profile"] = profile["profileId"]?.GetValue<string>() ?? profile["id"]!.GetValue<string>();

        var code = "Rel" + tag;
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsJsonAsync("/api/v1/identity-namespaces", new { code, name = "Reliability " + tag, type = "cross-device" })).StatusCode);
        ids["namespace"] = code;
        ids["segment"] = (await CreateAsync(api, "/api/v1/segments", new { name = Unique("Gold"), rule = new { attribute = "person.tier", op = "eq", value = "gold" } })).Id();
        ids["destination"] = (await CreateAsync(api, "/api/v1/destinations", new
        {
            name = Unique("Gold file"), type = "file", target = "gold-" + tag, format = "csv", mode = "full", segmentIds = new[] { ids["segment"] },
        })).Id();

        ids["model"] = (await CreateAsync(api, "/api/v1/models", new { name = Unique("segments"), recipe = "segmentation", source = new { datasetId = ids["dataset"] } })).Id();
        var train = await PortalHost.JsonAsync(await api.PostAsync($"/api/v1/models/{ids["model"]}/train", null));
        ids["trainingRun"] = train["runId"]!.GetValue<string>();
        var run = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{ids["trainingRun"]}",
            r => r["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", TimeSpan.FromMinutes(2));
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        ids["version"] = run["versionId"]!.GetValue<string>();
        var score = await api.PostAsync($"/api/v1/models/{ids["model"]}/score", null);
        var scored = await PortalHost.JsonAsync(score);
        Assert.True(score.StatusCode == HttpStatusCode.Accepted, scored.ToJsonString());
        ids["scoringRun"] = scored["runId"]!.GetValue<string>();

        var userName = "rel-" + tag;
        ids["user"] = (await CreateAsync(api, "/api/v1/users", new { userName, password = "reliability-password-1", role = "viewer" })).Id();
        ids["apiKey"] = (await CreateAsync(api, "/api/v1/api-keys", new { name = "rel key " + tag, role = "viewer" })).Id();
        var sandboxes = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/sandboxes"));
        var sandboxId = sandboxes["items"]!.AsArray().First(s => s!["name"]!.GetValue<string>() == sandbox)!.Id();
        var tables = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/queries/tables"));
        var table = tables["items"]!.AsArray().First(t => t!["datasetId"]?.GetValue<string>() == ids["dataset"])!["name"]!.GetValue<string>();
        // A destination that never failed has no dead letter: a made-up id (short, so it is no leak marker) stands for one.
        ids["deadLetter"] = "dl0";
        return new SandboxFixture { Sandbox = sandbox, SandboxId = sandboxId, Tag = tag, Keys = keys, Ids = ids, UserName = userName, TableName = table };
    }

    /// <summary>The value of a path parameter, named by the segment before it (<c>/datasets/{id}</c>: the dataset).</summary>
    public static string? KindOf(string previousSegment, string parameter) => (previousSegment, parameter) switch
    {
        ("identity-namespaces", "code") => "namespace",
        ("collection", "datasetId") => "dataset",
        ("training-runs", "runId") => "trainingRun",
        ("scoring-runs", "runId") => "scoringRun",
        ("datasets", "id") => "dataset",
        ("schemas", "id") => "schema",
        ("batches", "id") => "batch",
        ("files", "name") => "batchFile",
        ("jobs", "id") => "job",
        ("models", "id") => "model",
        ("versions", "versionId") => "version",
        ("api-keys", "id") => "apiKey",
        ("users", "id") => "user",
        ("profiles", "profileId") => "profile",
        ("segments", "id") => "segment",
        ("destinations", "id") => "destination",
        ("dead-letters", "deadLetterId") => "deadLetter",
        _ => null,
    };
}
