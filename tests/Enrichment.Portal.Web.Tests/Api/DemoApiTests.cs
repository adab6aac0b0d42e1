using System.Net;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// "Load the demo" end to end on the real app: sandbox demo from the shipped Superstore file through ingestion, a trained
/// propensity model, a scoring run and an evaluated audience; a profile then carries the insight and the audience; a second
/// load adds nothing.
/// </summary>
public sealed class DemoApiTests(PortalHost host)
{
    private static async Task<JsonNode> LoadAsync(HttpClient api)
    {
        var response = await api.PostAsync("/api/v1/demo", null);
        var body = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToJsonString());
        Assert.Equal("demo", body["sandbox"]!.GetValue<string>());
        var job = await PortalHost.PollAsync(api, $"/api/v1/jobs/{body["jobId"]!.GetValue<string>()}",
            j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", TimeSpan.FromMinutes(8));
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        return job;
    }

    [Fact]
    public async Task Load_the_demo_gives_a_scored_profile_in_an_audience_and_a_second_load_duplicates_nothing()
    {
        using var api = host.Api();
        var job = await LoadAsync(api);
        Assert.Equal(1.0, job["progress"]!.GetValue<double>(), 3);

        using var demo = host.Api(await host.KeyAsync("admin", "demo"));
        // The instance administrators see the demo in their sandbox switcher, whoever loaded it.
        var users = (await PortalHost.JsonAsync(await demo.GetAsync("/api/v1/users")))["items"]!.AsArray();
        Assert.Contains(users, u => u!["userName"]!.GetValue<string>() == "admin" && u["role"]!.GetValue<string>() == "admin");
        var models = (await PortalHost.JsonAsync(await demo.GetAsync("/api/v1/models")))["items"]!.AsArray();
        var model = Assert.Single(models, m => m!["name"]!.GetValue<string>() == "demo_consumer")!;
        var detail = await PortalHost.JsonAsync(await demo.GetAsync($"/api/v1/models/{model["id"]!.GetValue<string>()}"));
        var version = Assert.Single(detail["versions"]!.AsArray())!;
        Assert.Equal("profiles", version["trainingData"]!["unit"]!.GetValue<string>());
        Assert.True(version["trainingData"]!["rows"]!.GetValue<int>() > 500, version.ToJsonString()); // 793 customers

        var segments = (await PortalHost.JsonAsync(await demo.GetAsync("/api/v1/segments")))["items"]!.AsArray();
        var audience = Assert.Single(segments, s => s!["name"]!.GetValue<string>() == "Likely consumers")!;
        var size = audience["size"]!.GetValue<long>();
        Assert.True(size is > 0 and < 400, audience.ToJsonString()); // about the top quarter of 793 customers
        var members = await PortalHost.JsonAsync(await demo.GetAsync($"/api/v1/segments/{audience["id"]!.GetValue<string>()}/members?limit=1"));
        var profileId = members["items"]!.AsArray()[0]!["profileId"]!.GetValue<string>();
        var profile = await PortalHost.JsonAsync(await demo.GetAsync($"/api/v1/profiles/{profileId}"));
        var score = profile["insights"]!["demo_consumer"]!["score"]!.GetValue<double>();
        var threshold = audience["rule"]!["value"]!.GetValue<double>();
        Assert.InRange(score, threshold, 1.0);
        Assert.Contains(profile["segments"]!.AsArray(), s => s!["name"]!.GetValue<string>() == "Likely consumers");

        // Again: the same sandbox, one schema, dataset, batch, model version and audience.
        await LoadAsync(api);
        Assert.Single((await PortalHost.JsonAsync(await demo.GetAsync("/api/v1/models")))["items"]!.AsArray());
        var again = await PortalHost.JsonAsync(await demo.GetAsync($"/api/v1/models/{model["id"]!.GetValue<string>()}"));
        Assert.Single(again["versions"]!.AsArray());
        Assert.Single((await PortalHost.JsonAsync(await demo.GetAsync("/api/v1/segments")))["items"]!.AsArray());
        var datasets = (await PortalHost.JsonAsync(await demo.GetAsync("/api/v1/datasets")))["items"]!.AsArray()
            .Where(d => d!["name"]!.GetValue<string>() == "Superstore orders").ToList();
        var dataset = Assert.Single(datasets)!;
        var batches = (await PortalHost.JsonAsync(await demo.GetAsync($"/api/v1/batches?datasetId={dataset["id"]!.GetValue<string>()}")))["items"]!.AsArray();
        Assert.Single(batches);
        Assert.Equal(9_994L, batches[0]!["recordsWritten"]!.GetValue<long>());
    }
}
