using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Tests.Schemas;

public class SchemaRulesTests
{
    private static NamespaceInfo? Lookup(string code) =>
        BuiltInNamespaces.Find(code) ?? (code == "LoyaltyID" ? new NamespaceInfo("LoyaltyID", "Loyalty", IdentityType.CrossDevice, NormalizerKind.Id, false) : null);

    private static SchemaField F(string path, FieldType type = FieldType.String) => new() { Path = path, Type = type };

    private static SchemaDefinition Profile(params SchemaField[] fields) => new("Customers", SchemaClass.Profile, fields);

    private static IReadOnlyList<SchemaError> Validate(SchemaDefinition s, int max = SchemaRules.DefaultMaxFields) => SchemaRules.Validate(s, Lookup, max);

    [Fact]
    public void The_API_md_example_profile_schema_is_valid()
    {
        var schema = Profile(
            F("customerId") with { Required = true, Identity = new("CRMID", true) },
            F("person.email") with { Identity = new("Email") },
            F("tenure", FieldType.Integer),
            F("contract") with { Enum = ["Month-to-month", "One year", "Two year"] },
            F("insights", FieldType.Map) with { ValueType = FieldType.Object });
        Assert.Empty(Validate(schema));
    }

    [Theory]
    [InlineData("person..name")]
    [InlineData(".person")]
    [InlineData("person.")]
    [InlineData("1st")]
    [InlineData("person.first name")]
    [InlineData("person.-x")]
    [InlineData("e-mail$")]
    public void A_path_with_bad_syntax_is_rejected(string path)
    {
        var errors = Validate(Profile(F(path)));
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.PathSyntax && e.Field == path);
    }

    [Theory]
    [InlineData("_tenant.crm-id")]
    [InlineData("a.b_2.C")]
    public void Paths_of_letters_digits_underscores_and_dashes_are_accepted(string path) =>
        Assert.Empty(Validate(Profile(F(path))));

    [Fact]
    public void A_duplicate_path_is_rejected() =>
        Assert.Contains(Validate(Profile(F("email"), F("email"))), e => e.Code == SchemaErrorCodes.PathDuplicate && e.Field == "email");

    [Fact]
    public void A_path_cannot_be_a_leaf_and_a_parent()
    {
        var errors = Validate(Profile(F("person"), F("person.name")));
        var error = Assert.Single(errors);
        Assert.Equal(SchemaErrorCodes.PathLeafAndParent, error.Code);
        Assert.Equal("person", error.Field);
        Assert.Contains("person.name", error.Message);
    }

    [Fact]
    public void An_array_needs_an_item_type_and_a_map_a_value_type()
    {
        var errors = Validate(Profile(F("tags", FieldType.Array), F("scores", FieldType.Map)));
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.ItemTypeMissing && e.Field == "tags");
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.ValueTypeMissing && e.Field == "scores");
    }

    [Fact]
    public void Object_is_only_an_item_or_value_type()
    {
        Assert.Contains(Validate(Profile(F("address", FieldType.Object))), e => e.Code == SchemaErrorCodes.ObjectNotAFieldType);
        Assert.Empty(Validate(Profile(F("orders", FieldType.Array) with { ItemType = FieldType.Object })));
    }

    [Fact]
    public void An_item_type_on_a_field_that_is_not_an_array_is_rejected() =>
        Assert.Contains(Validate(Profile(F("name") with { ItemType = FieldType.String })), e => e.Code == SchemaErrorCodes.ItemTypeNotAllowed);

    [Fact]
    public void An_enum_must_be_on_a_string_field_non_empty_and_distinct()
    {
        Assert.Contains(Validate(Profile(F("age", FieldType.Integer) with { Enum = ["1"] })), e => e.Code == SchemaErrorCodes.EnumNotString);
        Assert.Contains(Validate(Profile(F("plan") with { Enum = [] })), e => e.Code == SchemaErrorCodes.EnumEmpty);
        var dup = Assert.Single(Validate(Profile(F("plan") with { Enum = ["gold", "silver", "gold"] })));
        Assert.Equal(SchemaErrorCodes.EnumDuplicate, dup.Code);
        Assert.Contains("'gold'", dup.Message);
    }

    [Fact]
    public void An_identity_must_be_a_string_field_of_an_existing_namespace()
    {
        var errors = Validate(Profile(
            F("customerNo", FieldType.Integer) with { Identity = new("CRMID", true) },
            F("loyalty") with { Identity = new("LoyaltyID") },
            F("club") with { Identity = new("NoSuchNamespace") }));
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.IdentityType && e.Field == "customerNo");
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.NamespaceUnknown && e.Field == "club" && e.Message.Contains("NoSuchNamespace"));
        Assert.DoesNotContain(errors, e => e.Field == "loyalty");
    }

    [Fact]
    public void At_most_one_field_is_the_primary_identity()
    {
        var errors = Validate(Profile(F("crm") with { Identity = new("CRMID", true) }, F("email") with { Identity = new("Email", true) }));
        var e = Assert.Single(errors);
        Assert.Equal(SchemaErrorCodes.PrimaryIdentityMultiple, e.Code);
        Assert.Contains("crm", e.Message);
        Assert.Contains("email", e.Message);
    }

    [Fact]
    public void Normalize_adds_timestamp_and_event_type_to_an_event_schema()
    {
        var schema = SchemaRules.Normalize(new SchemaDefinition("Purchases", SchemaClass.Event, [F("amount", FieldType.Number)]));
        Assert.Equal(FieldType.DateTime, schema.Find("timestamp")!.Type);
        Assert.True(schema.Find("timestamp")!.Required);
        Assert.Equal(FieldType.String, schema.Find("eventType")!.Type);
        Assert.True(schema.Find("eventType")!.Required);
        Assert.Empty(Validate(schema));
    }

    [Fact]
    public void Normalize_does_not_silently_fix_a_listed_reserved_field()
    {
        var schema = SchemaRules.Normalize(new SchemaDefinition("Purchases", SchemaClass.Event,
            [F("timestamp"), F("eventType") with { Required = false }]));
        Assert.Equal(FieldType.String, schema.Find("timestamp")!.Type);
        var errors = Validate(schema);
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.ReservedFieldType && e.Field == "timestamp");
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.ReservedFieldOptional && e.Field == "timestamp");
        Assert.Contains(errors, e => e.Code == SchemaErrorCodes.ReservedFieldOptional && e.Field == "eventType");
    }

    [Fact]
    public void An_event_schema_without_its_reserved_fields_is_invalid_until_normalized()
    {
        var raw = new SchemaDefinition("Clicks", SchemaClass.Event, [F("page")]);
        Assert.Equal(2, Validate(raw).Count(e => e.Code == SchemaErrorCodes.ReservedFieldMissing));
        Assert.Same(SchemaRules.Normalize(Profile(F("a"))).Fields[0].Path, "a");
    }

    [Fact]
    public void More_fields_than_the_guardrail_allows_is_a_hard_error_that_names_the_guardrail()
    {
        var schema = Profile(Enumerable.Range(0, 6).Select(i => F("f" + i)).ToArray());
        var e = Assert.Single(Validate(schema, max: 5));
        Assert.Equal(SchemaErrorCodes.TooManyFields, e.Code);
        Assert.Contains("fields per schema", e.Message);
        Assert.Contains("6", e.Message);
        Assert.Empty(Validate(schema, max: 6));
    }

    [Fact]
    public void Profile_enablement_needs_exactly_one_primary_identity_and_says_why_in_user_words()
    {
        Assert.Contains("Add an identity field", SchemaRules.CanEnableProfile(Profile(F("name"))));
        Assert.Contains("primary", SchemaRules.CanEnableProfile(Profile(F("email") with { Identity = new("Email") })));
        Assert.Contains("Only one", SchemaRules.CanEnableProfile(Profile(F("a") with { Identity = new("Email", true) }, F("b") with { Identity = new("CRMID", true) })));
        Assert.Null(SchemaRules.CanEnableProfile(Profile(F("crm") with { Identity = new("CRMID", true) }, F("email") with { Identity = new("Email") })));
        Assert.Empty(SchemaRules.ProfileBlockers(Profile(F("crm") with { Identity = new("CRMID", true) })));
    }
}
