using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Schemas.Xdm;

namespace Enrichment.Portal.Core.Tests.Schemas;

public class XdmImporterTests
{
    private static XdmImportResult Import(string json) => XdmImporter.Import(XdmSource.FromJson(json));

    [Fact]
    public void A_self_contained_schema_maps_types_formats_arrays_maps_and_nested_objects()
    {
        var r = Import("""
            {
              "title": "Members", "type": "object", "required": ["xdm:memberId"],
              "definitions": { "address": { "type": "object", "properties": { "xdm:city": { "type": "string" } }, "required": ["xdm:city"] } },
              "properties": {
                "xdm:memberId": { "type": "string", "description": "Member number" },
                "xdm:joined": { "type": "string", "format": "date" },
                "xdm:lastSeen": { "type": "string", "format": "date-time" },
                "xdm:visits": { "type": "integer", "minimum": 0 },
                "xdm:spend": { "type": "number" },
                "xdm:vip": { "type": "boolean" },
                "xdm:tier": { "type": "string", "enum": ["gold", "silver"] },
                "xdm:tags": { "type": "array", "items": { "type": "string" } },
                "xdm:orders": { "type": "array", "items": { "type": "object", "properties": { "xdm:sku": { "type": "string" } } } },
                "xdm:scores": { "type": "object", "additionalProperties": { "type": "number" } },
                "xdm:home": { "$ref": "#/definitions/address" },
                "schema:latitude": { "type": "number" },
                "https://ns.adobe.com/xdm/channels/email": { "type": "string" }
              }
            }
            """);
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        var s = r.Schema!;
        Assert.Equal("Members", s.Name);
        Assert.Equal((FieldType.String, true, "Member number"), (s.Find("memberId")!.Type, s.Find("memberId")!.Required, s.Find("memberId")!.Description));
        Assert.Equal(FieldType.Date, s.Find("joined")!.Type);
        Assert.Equal(FieldType.DateTime, s.Find("lastSeen")!.Type);
        Assert.Equal(FieldType.Integer, s.Find("visits")!.Type);
        Assert.Equal(FieldType.Number, s.Find("spend")!.Type);
        Assert.Equal(FieldType.Boolean, s.Find("vip")!.Type);
        Assert.Equal(["gold", "silver"], s.Find("tier")!.Enum);
        Assert.Equal(FieldType.String, s.Find("tags")!.ItemType);
        Assert.Equal(FieldType.Object, s.Find("orders")!.ItemType);
        Assert.Equal((FieldType.Map, FieldType.Number), (s.Find("scores")!.Type, s.Find("scores")!.ValueType));
        Assert.True(s.Find("home.city")!.Required);
        Assert.NotNull(s.Find("schema_latitude"));
        Assert.NotNull(s.Find("email"));
        Assert.Contains(r.Warnings, w => w.Contains("'minimum' is not enforced"));
        Assert.Empty(SchemaRules.Validate(s, Enrichment.Portal.Core.Identity.BuiltInNamespaces.Find));
    }

    [Fact]
    public void Unknown_constructs_are_reported_not_dropped_silently()
    {
        var r = Import("""
            { "type": "object", "properties": {
                "a": { "oneOf": [ { "type": "string" }, { "type": "integer" } ] },
                "b": { "type": "string", "x-frobnicate": 1 },
                "c": { "type": "object" },
                "d": { "type": "string", "meta:descriptors": [ { "@type": "xdm:alternateDisplayInfo" } ] } } }
            """);
        Assert.True(r.Succeeded);
        Assert.Contains(r.Warnings, w => w.Contains("'oneOf' is not supported") && w.Contains("at a"));
        Assert.Contains(r.Warnings, w => w.Contains("unknown keyword 'x-frobnicate'"));
        Assert.Contains(r.Warnings, w => w.Contains("An object without properties") && w.Contains("at c"));
        Assert.Contains(r.Warnings, w => w.Contains("descriptor 'xdm:alternateDisplayInfo'"));
        Assert.Contains(r.Warnings, w => w.Contains("without a type") && w.Contains("at a"));
    }

    [Fact]
    public void Files_are_resolved_by_id_by_relative_path_and_by_fragment_and_meta_extends_is_composed()
    {
        var files = new Dictionary<string, string>
        {
            ["schemas/entry.json"] = """
                { "$id": "https://example.com/entry", "title": "Entry", "type": "object",
                  "meta:extends": ["https://example.com/mixins/loyalty"],
                  "allOf": [ { "$ref": "../common/base.json" }, { "$ref": "https://example.com/types#/definitions/contact" } ] }
                """,
            ["common/base.json"] = """{ "type": "object", "properties": { "xdm:id": { "type": "string" } } }""",
            ["common/types.json"] = """
                { "$id": "https://example.com/types", "definitions": { "contact": { "properties": { "xdm:phone": { "$ref": "phone.json" } } } } }
                """,
            ["common/phone.json"] = """{ "type": "object", "properties": { "xdm:number": { "type": "string" } } }""",
            ["mixins/loyalty.json"] = """{ "$id": "https://example.com/mixins/loyalty", "properties": { "xdm:points": { "type": "integer" } } }""",
        };
        var r = XdmImporter.Import(XdmSource.FromFiles(files, "schemas/entry.json"));
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        Assert.Equal(["id", "phone.number", "points"], r.Schema!.Fields.Select(f => f.Path).Order().ToArray());
    }

    [Fact]
    public void A_broken_fragment_reference_names_the_reference_and_the_file()
    {
        var r = Import("""{ "type": "object", "properties": { "a": { "$ref": "#/definitions/missing" } } }""");
        var e = Assert.Single(r.Errors);
        Assert.Equal(("BROKEN_REF", "#/definitions/missing", "schema.json"), (e.Code, e.Reference, e.File));
        Assert.Contains("has no '#/definitions/missing'", e.Message);
        Assert.Null(r.Schema);
    }

    [Fact]
    public void A_reference_cycle_is_detected()
    {
        var r = Import("""
            { "type": "object", "allOf": [ { "$ref": "#/definitions/a" } ],
              "definitions": { "a": { "allOf": [ { "$ref": "#/definitions/b" } ] }, "b": { "allOf": [ { "$ref": "#/definitions/a" } ] } } }
            """);
        var e = Assert.Single(r.Errors);
        Assert.Equal("REF_CYCLE", e.Code);
        Assert.Contains("/definitions/a", e.Message);
    }

    [Fact]
    public void A_recursive_data_type_is_cut_with_a_warning_and_deep_nesting_is_bounded()
    {
        var r = Import("""
            { "type": "object", "properties": { "xdm:root": { "$ref": "#/definitions/node" } },
              "definitions": { "node": { "type": "object", "properties": { "xdm:name": { "type": "string" }, "xdm:child": { "$ref": "#/definitions/node" } } } } }
            """);
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        Assert.NotNull(r.Schema!.Find("root.name"));
        Assert.Contains(r.Warnings, w => w.Contains("recursive"));

        var deep = new StringBuilder();
        for (var i = 0; i < 40; i++) deep.Append("""{ "type": "object", "properties": { "n": """);
        deep.Append("""{ "type": "string" }""");
        for (var i = 0; i < 40; i++) deep.Append(" } }");
        var d = XdmImporter.Import(XdmSource.FromJson(deep.ToString()), new XdmImportOptions { MaxDepth = 10 });
        Assert.True(d.Succeeded);
        Assert.Empty(d.Schema!.Fields);
        Assert.Contains(d.Warnings, w => w.Contains("deeper than 10"));
    }

    [Fact]
    public void Identity_annotations_and_descriptors_become_identity_fields()
    {
        var r = Import("""
            { "type": "object",
              "properties": {
                "_acme": { "type": "object", "properties": { "loyaltyId": { "type": "string", "x-identity": { "namespace": "CRMID", "primary": true } } } },
                "xdm:email": { "type": "string", "meta:descriptors": [ { "@type": "xdm:descriptorIdentity", "xdm:namespace": "Email" } ] },
                "xdm:phone": { "type": "string" } },
              "meta:descriptors": [ { "@type": "xdm:descriptorIdentity", "xdm:sourceProperty": "/xdm:phone", "xdm:namespace": "Phone" },
                                    { "@type": "xdm:descriptorIdentity", "xdm:sourceProperty": "/xdm:nope", "xdm:namespace": "ECID" } ] }
            """);
        Assert.True(r.Succeeded);
        Assert.Equal(new IdentityMapping("CRMID", true), r.Schema!.Find("_acme.loyaltyId")!.Identity);
        Assert.Equal(new IdentityMapping("Email"), r.Schema.Find("email")!.Identity);
        Assert.Equal(new IdentityMapping("Phone"), r.Schema.Find("phone")!.Identity);
        Assert.Contains(r.Warnings, w => w.Contains("'nope'"));
        Assert.Null(SchemaRules.CanEnableProfile(r.Schema));
    }

    [Fact]
    public void Invalid_JSON_gives_a_clear_error()
    {
        var e = Assert.Single(Import("{ \"type\": ").Errors);
        Assert.Equal("INVALID_JSON", e.Code);
        Assert.Contains("schema.json", e.Message);
    }

    [Fact]
    public void A_zip_of_a_schema_and_its_components_imports_with_the_entry_found_automatically()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, string text)
            {
                using var w = new StreamWriter(zip.CreateEntry(name).Open());
                w.Write(text);
            }
            Add("upload/main.schema.json", """{ "title": "Main", "type": "object", "allOf": [ { "$ref": "https://example.com/part" } ] }""");
            Add("upload/part.schema.json", """{ "$id": "https://example.com/part", "type": "object", "properties": { "xdm:x": { "type": "boolean" } } }""");
        }
        ms.Position = 0;
        var r = XdmImporter.Import(XdmSource.FromZip(ms));
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        Assert.Equal("Main", r.Title);
        Assert.Equal(FieldType.Boolean, Assert.Single(r.Schema!.Fields).Type);

        using var notZip = new MemoryStream(Encoding.UTF8.GetBytes("hello"));
        Assert.Contains("not a valid zip", Assert.Throws<XdmSourceException>(() => XdmSource.FromZip(notZip)).Message);
    }

    [Fact]
    public void XDM_property_names_become_readable_valid_path_segments()
    {
        Assert.Equal("firstName", XdmNames.ToSegment("xdm:firstName"));
        Assert.Equal("_id", XdmNames.ToSegment("@id"));
        Assert.Equal("schema_latitude", XdmNames.ToSegment("schema:latitude"));
        Assert.Equal("direct-mail", XdmNames.ToSegment("https://ns.adobe.com/xdm/channels/direct-mail"));
        Assert.Equal("_tenant", XdmNames.ToSegment("_tenant"));
        Assert.Equal("_3d", XdmNames.ToSegment("3d"));
        Assert.True(SchemaPaths.IsValidSegment(XdmNames.ToSegment("a b.c")));
    }
}
