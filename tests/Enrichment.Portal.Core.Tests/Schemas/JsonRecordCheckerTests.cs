using System.Text.Json;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Tests.Schemas;

public class JsonRecordCheckerTests
{
    private static readonly SchemaDefinition Schema = new("Customers", SchemaClass.Profile,
    [
        new SchemaField { Path = "id", Type = FieldType.String, Required = true },
        new SchemaField { Path = "person.name.first", Type = FieldType.String, Required = true },
        new SchemaField { Path = "person.birthDate", Type = FieldType.Date },
        new SchemaField { Path = "tenure", Type = FieldType.Integer },
        new SchemaField { Path = "spend", Type = FieldType.Number },
        new SchemaField { Path = "vip", Type = FieldType.Boolean },
        new SchemaField { Path = "seenAt", Type = FieldType.DateTime },
        new SchemaField { Path = "plan", Type = FieldType.String, Enum = ["gold", "silver"] },
        new SchemaField { Path = "tags", Type = FieldType.Array, ItemType = FieldType.String },
        new SchemaField { Path = "scores", Type = FieldType.Map, ValueType = FieldType.Number },
    ]);

    private static IReadOnlyList<RecordError> Check(string json, UnknownFieldPolicy policy = UnknownFieldPolicy.Reject)
    {
        using var doc = JsonDocument.Parse(json);
        return JsonRecordChecker.Check(Schema, doc.RootElement, policy);
    }

    [Fact]
    public void A_conforming_nested_record_has_no_errors() =>
        Assert.Empty(Check("""
            { "id": "C1", "person": { "name": { "first": "Jane" }, "birthDate": "1990-02-03" }, "tenure": 12.0, "spend": 3.5,
              "vip": true, "seenAt": "2024-05-01T12:00:00Z", "plan": "gold", "tags": ["a", "b"], "scores": { "x": 1 } }
            """));

    [Fact]
    public void Dotted_keys_are_accepted_like_nested_objects() =>
        Assert.Empty(Check("""{ "id": "C1", "person.name.first": "Jane" }"""));

    [Fact]
    public void Each_wrong_value_is_reported_with_its_field_and_code()
    {
        var errors = Check("""
            { "id": 5, "person": { "name": { "first": "J" }, "birthDate": "03/02/1990" }, "tenure": 1.5, "vip": "yes",
              "seenAt": "yesterday", "plan": "platinum", "tags": [1], "scores": { "x": "high" } }
            """);
        Assert.Contains(errors, e => e.Field == "id" && e.Code == "TYPE_MISMATCH");
        Assert.Contains(errors, e => e.Field == "person.birthDate" && e.Code == "TYPE_MISMATCH");
        Assert.Contains(errors, e => e.Field == "tenure" && e.Code == "TYPE_MISMATCH");
        Assert.Contains(errors, e => e.Field == "vip" && e.Code == "TYPE_MISMATCH");
        Assert.Contains(errors, e => e.Field == "seenAt" && e.Code == "TYPE_MISMATCH");
        Assert.Contains(errors, e => e.Field == "plan" && e.Code == "ENUM_MISMATCH" && e.Message.Contains("platinum"));
        Assert.Contains(errors, e => e.Field == "tags" && e.Message.Contains("Item 0"));
        Assert.Contains(errors, e => e.Field == "scores" && e.Message.Contains("'x'"));
    }

    [Fact]
    public void A_missing_required_field_is_reported_and_a_nested_one_only_when_its_parent_is_present()
    {
        var errors = Check("""{ "tenure": 3 }""");
        var e = Assert.Single(errors);
        Assert.Equal(("id", "REQUIRED_MISSING"), (e.Field, e.Code));
        Assert.Contains(Check("""{ "id": "C1", "person": { "name": { } } }"""), x => x.Field == "person.name.first" && x.Code == "REQUIRED_MISSING");
        Assert.Contains(Check("""{ "id": "C1", "person": { "name": { "first": null } } }"""), x => x.Field == "person.name.first");
    }

    [Fact]
    public void Unknown_fields_are_rejected_unless_ignored()
    {
        Assert.Contains(Check("""{ "id": "C1", "shoeSize": 42 }"""), e => e.Field == "shoeSize" && e.Code == "UNKNOWN_FIELD");
        Assert.Empty(Check("""{ "id": "C1", "shoeSize": 42 }""", UnknownFieldPolicy.Ignore));
    }

    [Fact]
    public void A_scalar_where_an_object_of_fields_belongs_and_a_non_object_record_are_rejected()
    {
        Assert.Contains(Check("""{ "id": "C1", "person": "Jane" }"""), e => e.Field == "person" && e.Code == "TYPE_MISMATCH");
        Assert.Equal("NOT_AN_OBJECT", Assert.Single(Check("[1,2]")).Code);
    }
}
