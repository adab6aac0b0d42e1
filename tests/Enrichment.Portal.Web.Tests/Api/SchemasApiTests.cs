using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

public sealed class SchemasApiTests(PortalHost host)
{
    [Fact]
    public async Task A_profile_schema_is_created_with_version_1_and_can_be_read_and_listed()
    {
        using var api = host.Api();
        var name = Unique("Telco customers");
        var created = await CreateAsync(api, "/api/v1/schemas", ProfileSchema(name));
        Assert.Equal(name, created["name"]!.GetValue<string>());
        Assert.Equal("profile", created["class"]!.GetValue<string>());
        Assert.Equal(1, created["version"]!.GetValue<int>());
        Assert.False(created["profileEnabled"]!.GetValue<bool>());
        Assert.NotNull(created["createdAt"]);
        var email = created["fields"]!.AsArray().Single(f => f!["path"]!.GetValue<string>() == "person.email")!;
        Assert.Equal("Email", email["identity"]!["namespace"]!.GetValue<string>());
        Assert.Equal("map", created["fields"]!.AsArray().Single(f => f!["path"]!.GetValue<string>() == "insights")!["type"]!.GetValue<string>());

        var got = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/schemas/{created.Id()}"));
        Assert.Equal(5, got["fields"]!.AsArray().Count);
        var list = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/schemas?search={Uri.EscapeDataString(name)}"));
        Assert.Single(list["items"]!.AsArray());
        Assert.True(list.AsObject().ContainsKey("nextCursor"));
    }

    [Fact]
    public async Task An_event_schema_gets_timestamp_and_event_type()
    {
        using var api = host.Api();
        var created = await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("Web events"), @class = "event",
            fields = new object[] { new { path = "customerId", type = "string", identity = new { @namespace = "CRMID", primary = true } }, new { path = "page.url", type = "string" } },
        });
        var fields = created["fields"]!.AsArray();
        var ts = fields.Single(f => f!["path"]!.GetValue<string>() == "timestamp")!;
        Assert.Equal(("datetime", true), (ts["type"]!.GetValue<string>(), ts["required"]!.GetValue<bool>()));
        Assert.Contains(fields, f => f!["path"]!.GetValue<string>() == "eventType");
    }

    [Fact]
    public async Task Malformed_input_is_400_with_errors_and_broken_rules_are_422()
    {
        using var api = host.Api();
        var notJson = await api.PostAsync("/api/v1/schemas", new StringContent("{ nope", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(notJson))["errors"]!["body"]);

        var badType = await api.PostAsJsonAsync("/api/v1/schemas", new { name = Unique("x"), @class = "profile", fields = new object[] { new { path = "a", type = "blob" } } });
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(badType))["errors"]!["fields[0]"]);

        var badClass = await api.PostAsJsonAsync("/api/v1/schemas", new { name = Unique("x"), @class = "thing", fields = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.BadRequest, badClass.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(badClass))["errors"]!["class"]);

        var twoPrimaries = await api.PostAsJsonAsync("/api/v1/schemas", new
        {
            name = Unique("x"), @class = "profile",
            fields = new object[]
            {
                new { path = "a", type = "string", identity = new { @namespace = "CRMID", primary = true } },
                new { path = "b", type = "string", identity = new { @namespace = "Email", primary = true } },
                new { path = "bad path", type = "string" },
                new { path = "c", type = "string", identity = new { @namespace = "NoSuchNamespace" } },
            },
        });
        Assert.Equal((HttpStatusCode)422, twoPrimaries.StatusCode);
        var errors = (await PortalHost.JsonAsync(twoPrimaries))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("bad path"));
        Assert.True(errors.ContainsKey("c"));
    }

    [Fact]
    public async Task A_duplicate_name_is_409()
    {
        using var api = host.Api();
        var name = Unique("Dupe");
        await CreateAsync(api, "/api/v1/schemas", ProfileSchema(name));
        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync("/api/v1/schemas", ProfileSchema(name))).StatusCode);
    }

    [Fact]
    public async Task Patch_adds_fields_and_a_profile_enabled_schema_refuses_non_additive_changes_with_409()
    {
        using var api = host.Api();
        var id = (await CreateAsync(api, "/api/v1/schemas", ProfileSchema(Unique("Evolving")))).Id();
        var patched = await api.PatchAsJsonAsync($"/api/v1/schemas/{id}", new { addFields = new object[] { new { path = "person.name.first", type = "string" } } });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(2, (await PortalHost.JsonAsync(patched))["version"]!.GetValue<int>());

        var enabled = await api.PostAsync($"/api/v1/schemas/{id}/enable-profile", null);
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        Assert.True((await PortalHost.JsonAsync(enabled))["profileEnabled"]!.GetValue<bool>());

        var required = await api.PatchAsJsonAsync($"/api/v1/schemas/{id}", new { addFields = new object[] { new { path = "plan", type = "string", required = true } } });
        Assert.Equal(HttpStatusCode.Conflict, required.StatusCode);
        Assert.Contains("optional", (await PortalHost.JsonAsync(required))["detail"]!.GetValue<string>());
        var retype = await api.PatchAsJsonAsync($"/api/v1/schemas/{id}", new
        {
            fields = new object[]
            {
                new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
                new { path = "tenure", type = "number" },
            },
        });
        Assert.Equal(HttpStatusCode.Conflict, retype.StatusCode);
        var ok = await api.PatchAsJsonAsync($"/api/v1/schemas/{id}", new { addFields = new object[] { new { path = "plan", type = "string" } } });
        Assert.Equal(3, (await PortalHost.JsonAsync(ok))["version"]!.GetValue<int>());
        var empty = await api.PatchAsJsonAsync($"/api/v1/schemas/{id}", new { });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }

    [Fact]
    public async Task Enable_profile_without_a_primary_identity_is_422_with_the_reason()
    {
        using var api = host.Api();
        var id = (await CreateAsync(api, "/api/v1/schemas", new
        {
            name = Unique("No primary"), @class = "profile",
            fields = new object[] { new { path = "email", type = "string", identity = new { @namespace = "Email" } } },
        })).Id();
        var response = await api.PostAsync($"/api/v1/schemas/{id}/enable-profile", null);
        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains("primary identity", (await PortalHost.JsonAsync(response))["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_sandbox_gets_404_and_a_viewer_gets_403_on_writes()
    {
        using var api = host.Api();
        var id = (await CreateAsync(api, "/api/v1/schemas", ProfileSchema(Unique("Private")))).Id();
        using var dev = host.Api(await host.KeyAsync("admin", "dev"));
        Assert.Equal(HttpStatusCode.NotFound, (await dev.GetAsync($"/api/v1/schemas/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dev.PatchAsJsonAsync($"/api/v1/schemas/{id}", new { addFields = new object[] { new { path = "x", type = "string" } } })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dev.PostAsync($"/api/v1/schemas/{id}/enable-profile", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dev.GetAsync($"/api/v1/schemas/{id}/export")).StatusCode);
        var devList = await PortalHost.JsonAsync(await dev.GetAsync("/api/v1/schemas?limit=1000"));
        Assert.DoesNotContain(devList["items"]!.AsArray(), s => s!["id"]!.GetValue<string>() == id);

        using var viewer = host.Api(await host.KeyAsync("viewer"));
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/v1/schemas/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/schemas", ProfileSchema(Unique("Viewer")))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/v1/schemas/{id}/enable-profile", null)).StatusCode);
    }

    [Fact]
    public async Task Export_gives_a_json_schema_document()
    {
        using var api = host.Api();
        var name = Unique("Exported");
        var id = (await CreateAsync(api, "/api/v1/schemas", ProfileSchema(name))).Id();
        var doc = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/schemas/{id}/export"));
        Assert.Equal(name, doc["title"]!.GetValue<string>());
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", doc["$schema"]!.GetValue<string>());
        Assert.Equal("CRMID", doc["properties"]!["customerId"]!["xdm:identity"]!["namespace"]!.GetValue<string>());
        var download = await api.GetAsync($"/api/v1/schemas/{id}/export?download=true");
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
    }

    [Fact]
    public async Task An_xdm_profile_schema_imports_from_a_zip_of_the_component_tree_with_warnings()
    {
        using var api = host.Api();
        var name = Unique("Loyal customers");
        var entry = $$"""
            { "$id": "https://example.com/schemas/loyal", "title": "{{name}}", "type": "object",
              "meta:class": "https://ns.adobe.com/xdm/context/profile",
              "allOf": [ { "$ref": "https://ns.adobe.com/xdm/context/profile" },
                         { "$ref": "https://ns.adobe.com/xdm/context/profile-person-details" },
                         { "$ref": "https://ns.adobe.com/xdm/context/profile-personal-details" },
                         { "$ref": "https://ns.adobe.com/xdm/context/identitymap" },
                         { "properties": { "_acme": { "type": "object", "properties": {
                             "crmId": { "type": "string", "xdm:identity": { "namespace": "CRMID", "primary": true } } } } } } ],
              "meta:descriptors": [ { "@type": "xdm:descriptorIdentity", "xdm:sourceProperty": "/xdm:personalEmail/xdm:address", "xdm:namespace": "Email", "xdm:isPrimary": false } ] }
            """;
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            var root = TestData.XdmComponents();
            foreach (var file in Directory.EnumerateFiles(root, "*.json", SearchOption.AllDirectories))
                archive.CreateEntryFromFile(file, "components/" + Path.GetRelativePath(root, file).Replace('\\', '/'));
            await using var w = new StreamWriter(archive.CreateEntry("loyal.schema.json").Open());
            await w.WriteAsync(entry);
        }
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(zip.ToArray()), "file", "loyal.zip" },
            { new StringContent("loyal.schema.json"), "entry" },
        };
        var response = await api.PostAsync("/api/v1/schemas/import-xdm", form);
        var body = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        Assert.Equal(name, body["name"]!.GetValue<string>());
        Assert.Equal("profile", body["class"]!.GetValue<string>());
        Assert.Equal("_acme.crmId", body["primaryIdentity"]!.GetValue<string>());
        var fields = body["fields"]!.AsArray();
        Assert.Contains(fields, f => f!["path"]!.GetValue<string>() == "person.name.firstName");
        Assert.Equal("Email", fields.Single(f => f!["path"]!.GetValue<string>() == "personalEmail.address")!["identity"]!["namespace"]!.GetValue<string>());
        Assert.Contains(body["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("identityMap"));

        var enabled = await api.PostAsync($"/api/v1/schemas/{body.Id()}/enable-profile", null);
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
    }

    [Fact]
    public async Task An_xdm_import_with_a_broken_ref_is_422_and_a_bad_upload_is_400()
    {
        using var api = host.Api();
        using var broken = new MultipartFormDataContent
        {
            { new StringContent("""{ "title": "Broken", "type": "object", "allOf": [ { "$ref": "https://example.com/missing" } ] }"""), "file", "broken.json" },
        };
        var response = await api.PostAsync("/api/v1/schemas/import-xdm", broken);
        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains("https://example.com/missing", (await PortalHost.JsonAsync(response))["detail"]!.GetValue<string>());

        using var notZip = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "file", "x.zip" } };
        var bad = await api.PostAsync("/api/v1/schemas/import-xdm", notZip);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await PortalHost.JsonAsync(bad))["errors"]!["file"]);

        Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsJsonAsync("/api/v1/schemas/import-xdm", new { })).StatusCode);
    }
}
