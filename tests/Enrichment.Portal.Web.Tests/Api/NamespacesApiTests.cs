using System.Net;
using System.Net.Http.Json;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

public sealed class NamespacesApiTests(PortalHost host)
{
    private static string Code() => "Ns" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Built_ins_are_listed_and_a_custom_namespace_is_created_listed_and_deleted()
    {
        using var api = host.Api();
        var list = await PortalHost.JsonAsync(await api.GetAsync("/api/v1/identity-namespaces?limit=1000"));
        var items = list["items"]!.AsArray();
        foreach (var code in new[] { "Email", "Phone", "CRMID", "ECID", "CookieID", "DeviceID" })
            Assert.True(items.Single(n => n!["code"]!.GetValue<string>() == code)!["builtIn"]!.GetValue<bool>());
        Assert.Equal("cross-device", items.Single(n => n!["code"]!.GetValue<string>() == "CRMID")!["type"]!.GetValue<string>());

        var code1 = Code();
        var created = await CreateAsync(api, "/api/v1/identity-namespaces", new { code = code1, name = "Loyalty card", type = "cross-device" });
        Assert.Equal((code1, "Loyalty card", "cross-device", false), (created["code"]!.GetValue<string>(), created["name"]!.GetValue<string>(), created["type"]!.GetValue<string>(), created["builtIn"]!.GetValue<bool>()));
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync($"/api/v1/identity-namespaces/{code1}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/v1/identity-namespaces/{code1}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.DeleteAsync($"/api/v1/identity-namespaces/{code1}")).StatusCode);
    }

    [Fact]
    public async Task Bad_input_is_400_duplicates_and_built_ins_are_409()
    {
        using var api = host.Api();
        var bad = await api.PostAsJsonAsync("/api/v1/identity-namespaces", new { code = "9 bad", name = "x", type = "alien" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(bad))["errors"]!["type"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsJsonAsync("/api/v1/identity-namespaces", new { code = "9 bad", name = "x", type = "person" })).StatusCode);
        var code = Code();
        await CreateAsync(api, "/api/v1/identity-namespaces", new { code, name = "x", type = "person" });
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync("/api/v1/identity-namespaces", new { code = code.ToLowerInvariant(), name = "x", type = "person" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync("/api/v1/identity-namespaces", new { code = "Email", name = "x", type = "person" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await api.DeleteAsync("/api/v1/identity-namespaces/Email")).StatusCode);
    }

    [Fact]
    public async Task A_namespace_used_by_a_schema_cannot_be_deleted()
    {
        using var api = host.Api();
        var code = Code();
        await CreateAsync(api, "/api/v1/identity-namespaces", new { code, name = "Member id", type = "cross-device" });
        var schemaName = Unique("Members");
        await CreateAsync(api, "/api/v1/schemas", new
        {
            name = schemaName, @class = "profile",
            fields = new object[] { new { path = "memberId", type = "string", identity = new { @namespace = code, primary = true } } },
        });
        var response = await api.DeleteAsync($"/api/v1/identity-namespaces/{code}");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains(schemaName, (await PortalHost.JsonAsync(response))["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Custom_namespaces_are_per_sandbox_and_viewers_cannot_create_them()
    {
        using var api = host.Api();
        var code = Code();
        await CreateAsync(api, "/api/v1/identity-namespaces", new { code, name = "x", type = "device" });
        using var dev = host.Api(await host.KeyAsync("admin", "dev"));
        Assert.Equal(HttpStatusCode.NotFound, (await dev.GetAsync($"/api/v1/identity-namespaces/{code}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dev.DeleteAsync($"/api/v1/identity-namespaces/{code}")).StatusCode);
        var devList = await PortalHost.JsonAsync(await dev.GetAsync("/api/v1/identity-namespaces?limit=1000"));
        Assert.DoesNotContain(devList["items"]!.AsArray(), n => n!["code"]!.GetValue<string>() == code);

        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/identity-namespaces")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/identity-namespaces", new { code = Code(), name = "x", type = "person" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync($"/api/v1/identity-namespaces/{code}")).StatusCode);
    }
}
