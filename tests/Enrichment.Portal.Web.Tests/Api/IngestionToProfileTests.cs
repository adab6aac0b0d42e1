using System.Net;
using System.Net.Http.Json;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>A batch (or a streamed record) of a profile-enabled dataset reaches the profile through the identity and profile stages.</summary>
public sealed class IngestionToProfileTests(PortalHost host)
{
    [Fact]
    public async Task An_uploaded_batch_stitches_into_profiles_and_records_its_identity_and_profile_stages()
    {
        using var api = host.Api();
        var schemaId = (await CreateAsync(api, "/api/v1/schemas", BatchIngestionApiTests.PeopleSchema(Unique("People")))).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).StatusCode);
        var datasetId = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("People"), schemaId })).Id();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).StatusCode);

        using var dir = TestData.NewTempDir();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var csv = Path.Combine(dir.Path, "people.csv");
        await File.WriteAllTextAsync(csv,
            "id,email,age,vip,person.tier\n" +
            $"C-{tag}-1, Jane.{tag}@Example.com ,41,true,gold\n" +
            $"C-{tag}-2,bob.{tag}@example.com,35,false,silver\n" +
            $"C-{tag}-3,,29,false,\n");
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.Equal("success", batch["status"]!.GetValue<string>());
        var stages = batch["stages"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("identity", stages);
        Assert.Contains("profile", stages);
        Assert.All(batch["stages"]!.AsArray(), s => Assert.Equal("success", s!["status"]!.GetValue<string>()));

        // Looked up by a differently written email, and by the CRM id: the same profile, with the batch's attributes.
        var byEmail = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=Email&id={Uri.EscapeDataString($"JANE.{tag}@example.COM")}"));
        var byCrm = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/profiles?namespace=CRMID&id=C-{tag}-1"));
        Assert.Equal(byEmail["profileId"]!.GetValue<string>(), byCrm["profileId"]!.GetValue<string>());
        Assert.Equal(41, byCrm["attributes"]!["age"]!.GetValue<int>());
        Assert.Equal("gold", byCrm["attributes"]!["person"]!["tier"]!.GetValue<string>());

        // A streamed record for the same person updates the profile within seconds.
        var streamed = await api.PostAsJsonAsync($"/api/v1/collection/{datasetId}", new { id = $"C-{tag}-1", email = $"jane.{tag}@example.com", age = 42 });
        Assert.Equal(HttpStatusCode.Accepted, streamed.StatusCode);
        var updated = await PortalHost.PollAsync(api, $"/api/v1/profiles?namespace=CRMID&id=C-{tag}-1",
            p => p["attributes"]?["age"]?.GetValue<int>() == 42, TimeSpan.FromSeconds(15));
        Assert.Equal(byCrm["profileId"]!.GetValue<string>(), updated["profileId"]!.GetValue<string>());
    }
}
