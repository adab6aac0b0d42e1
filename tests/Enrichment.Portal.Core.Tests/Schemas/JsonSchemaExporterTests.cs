using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Schemas.Xdm;

namespace Enrichment.Portal.Core.Tests.Schemas;

public class JsonSchemaExporterTests
{
    private static readonly SchemaDefinition Telco = SchemaRules.Normalize(new SchemaDefinition("Telco events", SchemaClass.Event,
    [
        new SchemaField { Path = "customerId", Type = FieldType.String, Required = true, Identity = new("CRMID", true) },
        new SchemaField { Path = "person.email", Type = FieldType.String, Identity = new("Email"), Description = "Contact email" },
        new SchemaField { Path = "person.name.first", Type = FieldType.String, Required = true },
        new SchemaField { Path = "person.birthDate", Type = FieldType.Date },
        new SchemaField { Path = "tenure", Type = FieldType.Integer },
        new SchemaField { Path = "charges", Type = FieldType.Number },
        new SchemaField { Path = "paperless", Type = FieldType.Boolean },
        new SchemaField { Path = "contract", Type = FieldType.String, Enum = ["Month-to-month", "One year", "Two year"] },
        new SchemaField { Path = "tags", Type = FieldType.Array, ItemType = FieldType.String },
        new SchemaField { Path = "orders", Type = FieldType.Array, ItemType = FieldType.Object },
        new SchemaField { Path = "insights", Type = FieldType.Map, ValueType = FieldType.Object },
        new SchemaField { Path = "scores", Type = FieldType.Map, ValueType = FieldType.Number },
    ]));

    [Fact]
    public void Export_rebuilds_nested_objects_with_required_lists_formats_enums_and_identities()
    {
        var doc = JsonSchemaExporter.Export(Telco, "https://portal.local/schemas/42");
        Assert.Equal(JsonSchemaExporter.Dialect, (string?)doc["$schema"]);
        Assert.Equal("https://portal.local/schemas/42", (string?)doc["$id"]);
        Assert.Equal("event", (string?)doc["x-class"]);
        var props = doc["properties"]!.AsObject();
        Assert.Equal("date-time", (string?)props["timestamp"]!["format"]);
        Assert.Equal("date", (string?)props["person"]!["properties"]!["birthDate"]!["format"]);
        Assert.Equal("first", (string?)props["person"]!["properties"]!["name"]!["required"]![0]);
        Assert.Equal("CRMID", (string?)props["customerId"]!["xdm:identity"]!["namespace"]);
        Assert.True((bool)props["customerId"]!["xdm:identity"]!["primary"]!);
        Assert.Equal(3, props["contract"]!["enum"]!.AsArray().Count);
        Assert.Equal("number", (string?)props["scores"]!["additionalProperties"]!["type"]);
        var required = doc["required"]!.AsArray().Select(n => (string?)n).ToList();
        Assert.Contains("customerId", required);
        Assert.Contains("timestamp", required);
    }

    [Fact]
    public void Export_then_import_gives_the_same_fields()
    {
        var json = JsonSchemaExporter.Export(Telco, "https://portal.local/schemas/42").ToJsonString();
        var r = XdmImporter.Import(XdmSource.FromJson(json));
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        Assert.Equal(SchemaClass.Event, r.Schema!.Class);
        Assert.Equal("Telco events", r.Schema.Name);
        Assert.Equal(
            SchemaDefinitionJson.SerializeFields(Telco.Fields.OrderBy(f => f.Path, StringComparer.Ordinal)),
            SchemaDefinitionJson.SerializeFields(r.Schema.Fields.OrderBy(f => f.Path, StringComparer.Ordinal)));
    }
}
