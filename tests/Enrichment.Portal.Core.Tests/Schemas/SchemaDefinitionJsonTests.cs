using System.Text.Json;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Tests.Schemas;

public class SchemaDefinitionJsonTests
{
    private const string ApiExample = """
        [
          { "path": "customerId", "type": "string", "required": true, "identity": { "namespace": "CRMID", "primary": true } },
          { "path": "person.email", "type": "string", "identity": { "namespace": "Email" } },
          { "path": "tenure", "type": "integer" },
          { "path": "contract", "type": "string", "enum": ["Month-to-month", "One year", "Two year"] },
          { "path": "insights", "type": "map", "valueType": "object" },
          { "path": "seenAt", "type": "datetime", "description": "Last seen" },
          { "path": "tags", "type": "array", "itemType": "string" }
        ]
        """;

    [Fact]
    public void The_API_md_field_shape_is_read()
    {
        var fields = SchemaDefinitionJson.DeserializeFields(ApiExample);
        Assert.Equal(7, fields.Count);
        Assert.Equal(new IdentityMapping("CRMID", true), fields[0].Identity);
        Assert.True(fields[0].Required);
        Assert.Equal(new IdentityMapping("Email", false), fields[1].Identity);
        Assert.Equal(["Month-to-month", "One year", "Two year"], fields[3].Enum);
        Assert.Equal(FieldType.Object, fields[4].ValueType);
        Assert.Equal(FieldType.DateTime, fields[5].Type);
        Assert.Equal(FieldType.String, fields[6].ItemType);
    }

    [Fact]
    public void Fields_are_written_camel_case_with_lower_case_types_and_without_nulls()
    {
        var json = SchemaDefinitionJson.SerializeFields([new SchemaField { Path = "seenAt", Type = FieldType.DateTime, Identity = new("ECID") }]);
        Assert.Equal("""[{"path":"seenAt","type":"datetime","required":false,"identity":{"namespace":"ECID","primary":false}}]""", json);
    }

    [Fact]
    public void Fields_survive_a_round_trip()
    {
        var fields = SchemaDefinitionJson.DeserializeFields(ApiExample);
        var again = SchemaDefinitionJson.DeserializeFields(SchemaDefinitionJson.SerializeFields(fields));
        Assert.Equal(SchemaDefinitionJson.SerializeFields(fields), SchemaDefinitionJson.SerializeFields(again));
        Assert.Equal(fields[3].Enum, again[3].Enum);
    }

    [Fact]
    public void A_definition_is_written_with_its_class_and_without_computed_helpers()
    {
        var json = SchemaDefinitionJson.SerializeDefinition(new SchemaDefinition("Clicks", SchemaClass.Event, [new SchemaField { Path = "eventType", Type = FieldType.String }]));
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("event", doc.RootElement.GetProperty("class").GetString());
        Assert.False(doc.RootElement.TryGetProperty("primaryIdentity", out _));
        Assert.False(doc.RootElement.TryGetProperty("identityFields", out _));
        var back = SchemaDefinitionJson.DeserializeDefinition(json);
        Assert.Equal(SchemaClass.Event, back.Class);
        Assert.Equal("eventType", Assert.Single(back.Fields).Path);
    }

    [Theory]
    [InlineData("""[{ "path": "a", "type": "text" }]""", "type")]
    [InlineData("""[{ "type": "string" }]""", "path")]
    [InlineData("""{ "path": "a" }""", "")]
    [InlineData("""[{ "path": "a", "type": "string" """, "")]
    public void Bad_field_JSON_gives_a_clear_error_instead_of_a_crash(string json, string mention)
    {
        Assert.False(SchemaDefinitionJson.TryDeserializeFields(json, out _, out var error));
        Assert.StartsWith("The fields are not valid", error);
        Assert.Contains(mention, error);
    }
}
