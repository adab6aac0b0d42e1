using Bunit;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Components.Pages.Schemas;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class SchemaEditorTests : CatalogComponentTest
{
    private Task<Schema> CreateSchemaAsync(params SchemaField[] fields) =>
        WithServicesAsync(sp => sp.GetRequiredService<SchemaService>().CreateAsync(new SchemaDraft("Customers", SchemaClass.Profile, fields)));

    private static readonly SchemaField Email = new() { Path = "email", Type = FieldType.String, Identity = new("Email") };

    [Fact]
    public async Task Enable_for_profile_is_disabled_with_the_reason_while_there_is_no_primary_identity()
    {
        var schema = await CreateSchemaAsync(Email);
        var cut = RenderWithProviders<SchemaEditor>(new() { ["Id"] = schema.Id });
        cut.WaitForAssertion(() => Assert.Contains("primary identity", cut.Find("[data-testid=profile-blockers]").TextContent));
        Assert.True(cut.Find("button[data-testid=enable-profile]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task Adding_a_nested_field_and_marking_the_primary_identity_unblocks_profile_enablement_after_saving()
    {
        var schema = await CreateSchemaAsync(Email, new SchemaField { Path = "tenure", Type = FieldType.Integer });
        var cut = RenderWithProviders<SchemaEditor>(new() { ["Id"] = schema.Id });
        cut.WaitForAssertion(() => cut.Find("[data-testid=field-row-email]"));

        // add a nested field through the dialog
        cut.Find("button[data-testid=add-field]").Click();
        cut.WaitForAssertion(() => cut.Find("[data-testid=add-field-dialog]"));
        var nameInput = cut.Find("[data-testid=field-name] input, input[data-testid=field-name]");
        nameInput.Input("person.name.first");
        cut.Find("button[data-testid=field-add]").Click();
        cut.WaitForAssertion(() => cut.Find("[data-testid='field-row-person.name.first']"));
        Assert.NotNull(cut.Find("[data-testid='field-row-person']"));
        Assert.NotNull(cut.Find("[data-testid='field-row-person.name']"));
        Assert.Empty(cut.FindAll("[data-testid=add-field-dialog]"));

        // mark the email identity as primary: the identity blocker goes, unsaved changes block until saved
        cut.Find("button[data-testid=field-primary-email]").Click();
        cut.WaitForAssertion(() => Assert.Contains("primary", cut.Find("[data-testid=field-identity-email]").TextContent));
        cut.WaitForAssertion(() =>
        {
            var blockers = cut.Find("[data-testid=profile-blockers]").TextContent;
            Assert.DoesNotContain("primary identity", blockers);
            Assert.Contains("Save your changes first", blockers);
        });
        Assert.True(cut.Find("button[data-testid=enable-profile]").HasAttribute("disabled"));

        cut.Find("button[data-testid=schema-save]").Click();
        cut.WaitForAssertion(() => Assert.Contains("version 2", cut.Find("[data-testid=schema-version]").TextContent));
        cut.WaitForAssertion(() => Assert.False(cut.Find("button[data-testid=enable-profile]").HasAttribute("disabled")));
        Assert.Empty(cut.FindAll("[data-testid=profile-blockers]"));

        var stored = await WithServicesAsync(sp => sp.GetRequiredService<SchemaService>().GetAsync(schema.Id));
        Assert.Equal("email", stored.PrimaryIdentityPath);
        Assert.Equal(FieldType.String, stored.ToDefinition().Find("person.name.first")!.Type);
    }

    [Fact]
    public void A_new_schema_shows_what_blocks_profile_enablement_before_it_has_fields()
    {
        var cut = RenderWithProviders<SchemaEditor>();
        cut.WaitForAssertion(() => Assert.Contains("Add an identity field", cut.Find("[data-testid=profile-blockers]").TextContent));
        Assert.True(cut.Find("button[data-testid=enable-profile]").HasAttribute("disabled"));
        Assert.True(cut.Find("button[data-testid=schema-save]").HasAttribute("disabled"));
    }
}
