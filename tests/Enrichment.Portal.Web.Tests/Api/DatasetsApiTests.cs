using System.Net;
using System.Net.Http.Json;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

public sealed class DatasetsApiTests(PortalHost host)
{
    [Fact]
    public async Task Profile_and_event_schemas_with_their_datasets_are_created_and_enabled_for_profile()
    {
        using var api = host.Api();
        var profile = (await CreateAsync(api, "/api/v1/schemas", ProfileSchema(Unique("Customers")))).Id();
        var events = (await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("Purchases"), @class = "event",
            fields = new object[] { new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } }, new { path = "amount", type = "number" } },
        })).Id();

        var customers = await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Customers dataset"), schemaId = profile });
        Assert.Equal(profile, customers["schemaId"]!.GetValue<string>());
        Assert.False(customers["profileEnabled"]!.GetValue<bool>());
        Assert.False(customers["system"]!.GetValue<bool>());
        Assert.Equal(0, customers["recordCount"]!.GetValue<long>());
        Assert.Equal(0, customers["batchCount"]!.GetValue<int>());
        Assert.NotNull(customers["createdAt"]);
        var purchases = await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Purchases dataset"), schemaId = events });

        var early = await api.PostAsync($"/api/v1/datasets/{customers.Id()}/enable-profile", null);
        Assert.Equal((HttpStatusCode)422, early.StatusCode);
        Assert.Contains("not enabled for profile", (await PortalHost.JsonAsync(early))["detail"]!.GetValue<string>());

        foreach (var schema in new[] { profile, events })
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        foreach (var ds in new[] { customers.Id(), purchases.Id() })
        {
            var enabled = await api.PostAsync($"/api/v1/datasets/{ds}/enable-profile", null);
            Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
            Assert.True((await PortalHost.JsonAsync(enabled))["profileEnabled"]!.GetValue<bool>());
        }
        var got = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets/{customers.Id()}"));
        Assert.True(got["profileEnabled"]!.GetValue<bool>());
        var list = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/datasets?schemaId={profile}"));
        Assert.Equal(customers.Id(), Assert.Single(list["items"]!.AsArray())!.Id());
    }

    [Fact]
    public async Task Bad_input_is_400_a_duplicate_name_409_and_delete_is_202()
    {
        using var api = host.Api();
        var schema = (await CreateAsync(api, "/api/v1/schemas", ProfileSchema(Unique("For datasets")))).Id();
        var noSchema = await api.PostAsJsonAsync("/api/v1/datasets", new { name = Unique("x") });
        Assert.Equal(HttpStatusCode.BadRequest, noSchema.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(noSchema))["errors"]!["schemaId"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsJsonAsync("/api/v1/datasets", new { name = Unique("x"), schemaId = "unknown" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsJsonAsync("/api/v1/datasets", new { name = 5, schemaId = schema })).StatusCode);

        var name = Unique("Twice");
        var ds = await CreateAsync(api, "/api/v1/datasets", new { name, schemaId = schema });
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync("/api/v1/datasets", new { name, schemaId = schema })).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await api.DeleteAsync($"/api/v1/datasets/{ds.Id()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/datasets/{ds.Id()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync($"/api/v1/datasets/{ds.Id()}")).StatusCode);
    }

    [Fact]
    public async Task Another_sandbox_gets_404_and_a_viewer_gets_403_on_writes()
    {
        using var api = host.Api();
        var schema = (await CreateAsync(api, "/api/v1/schemas", ProfileSchema(Unique("Guarded")))).Id();
        var ds = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Guarded ds"), schemaId = schema })).Id();

        using var dev = host.Api(await host.KeyAsync("admin", "dev"));
        Assert.Equal(HttpStatusCode.NotFound, (await dev.GetAsync($"/api/v1/datasets/{ds}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dev.DeleteAsync($"/api/v1/datasets/{ds}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dev.PostAsync($"/api/v1/datasets/{ds}/enable-profile", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await dev.PostAsJsonAsync("/api/v1/datasets", new { name = "x", schemaId = schema })).StatusCode);
        var devList = await PortalHost.JsonAsync(await dev.GetAsync("/api/v1/datasets?limit=1000"));
        Assert.DoesNotContain(devList["items"]!.AsArray(), d => d!.Id() == ds);

        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/v1/datasets/{ds}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/datasets", new { name = "v", schemaId = schema })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync($"/api/v1/datasets/{ds}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/v1/datasets/{ds}/enable-profile", null)).StatusCode);
    }
}
