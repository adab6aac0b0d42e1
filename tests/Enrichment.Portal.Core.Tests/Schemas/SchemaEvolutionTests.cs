using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Tests.Schemas;

public class SchemaEvolutionTests
{
    private static readonly SchemaDefinition Current = new("Customers", SchemaClass.Profile,
    [
        new SchemaField { Path = "crm", Type = FieldType.String, Required = true, Identity = new("CRMID", true) },
        new SchemaField { Path = "email", Type = FieldType.String, Identity = new("Email") },
        new SchemaField { Path = "tenure", Type = FieldType.Integer },
        new SchemaField { Path = "plan", Type = FieldType.String, Enum = ["gold", "silver"] },
        new SchemaField { Path = "tags", Type = FieldType.Array, ItemType = FieldType.String },
    ]);

    private static SchemaDefinition With(Func<List<SchemaField>, List<SchemaField>> change) => Current with { Fields = change(Current.Fields.ToList()) };

    private static SchemaField Get(List<SchemaField> f, string path) => f.Single(x => x.Path == path);

    private static List<SchemaField> Replace(List<SchemaField> f, string path, Func<SchemaField, SchemaField> edit) =>
        f.Select(x => x.Path == path ? edit(x) : x).ToList();

    [Fact]
    public void Adding_an_optional_field_to_a_profile_enabled_schema_is_allowed()
    {
        var proposed = With(f => [.. f, new SchemaField { Path = "person.name", Type = FieldType.String, Identity = new("Phone") }]);
        Assert.Empty(SchemaEvolution.CheckChange(Current, proposed, profileEnabled: true));
    }

    [Fact]
    public void Any_change_is_allowed_before_profile_enablement() =>
        Assert.Empty(SchemaEvolution.CheckChange(Current, With(f => f.Take(1).ToList()), profileEnabled: false));

    [Fact]
    public void Removing_a_field_after_profile_enablement_is_a_violation_naming_the_field()
    {
        var v = Assert.Single(SchemaEvolution.CheckChange(Current, With(f => f.Where(x => x.Path != "tenure").ToList()), true));
        Assert.Equal("tenure", v.Field);
        Assert.Equal("FIELD_REMOVED", v.Code);
        Assert.Contains("only additive changes", v.Reason);
    }

    [Fact]
    public void Retyping_a_field_or_its_item_type_is_a_violation()
    {
        var v = SchemaEvolution.CheckChange(Current, With(f => Replace(Replace(f, "tenure", x => x with { Type = FieldType.Number }), "tags", x => x with { ItemType = FieldType.Integer })), true);
        Assert.Contains(v, x => x.Field == "tenure" && x.Code == "FIELD_RETYPED" && x.Reason.Contains("integer to number"));
        Assert.Contains(v, x => x.Field == "tags" && x.Code == "FIELD_RETYPED");
    }

    [Fact]
    public void Making_a_field_required_or_adding_a_required_field_is_a_violation()
    {
        var v = SchemaEvolution.CheckChange(Current, With(f => [.. Replace(f, "email", x => x with { Required = true }), new SchemaField { Path = "x", Type = FieldType.String, Required = true }]), true);
        Assert.Contains(v, x => x.Field == "email" && x.Code == "FIELD_MADE_REQUIRED");
        Assert.Contains(v, x => x.Field == "x" && x.Code == "REQUIRED_FIELD_ADDED");
    }

    [Fact]
    public void Removing_an_enum_value_is_a_violation_but_adding_one_is_allowed()
    {
        Assert.Empty(SchemaEvolution.CheckChange(Current, With(f => Replace(f, "plan", x => x with { Enum = ["gold", "silver", "bronze"] })), true));
        var v = Assert.Single(SchemaEvolution.CheckChange(Current, With(f => Replace(f, "plan", x => x with { Enum = ["gold"] })), true));
        Assert.Equal("ENUM_VALUE_REMOVED", v.Code);
        Assert.Contains("'silver'", v.Reason);
    }

    [Fact]
    public void Changing_an_identity_is_a_violation()
    {
        var v = SchemaEvolution.CheckChange(Current, With(f => Replace(Replace(f, "crm", x => x with { Identity = new("CRMID") }), "email", x => x with { Identity = null })), true);
        Assert.Contains(v, x => x.Field == "crm" && x.Code == "IDENTITY_CHANGED");
        Assert.Contains(v, x => x.Field == "email" && x.Code == "IDENTITY_CHANGED");
    }

    [Fact]
    public void Making_a_required_field_optional_is_allowed() =>
        Assert.Empty(SchemaEvolution.CheckChange(Current, With(f => Replace(f, "crm", x => x with { Required = false })), true));
}
