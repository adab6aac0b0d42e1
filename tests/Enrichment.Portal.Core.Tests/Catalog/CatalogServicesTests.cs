using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Schemas.Xdm;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Tests.Catalog;

public sealed class CatalogServicesTests
{
    private static readonly SchemaField CustomerId = new() { Path = "customerId", Type = FieldType.String, Required = true, Identity = new("CRMID", true) };
    private static readonly SchemaField Email = new() { Path = "person.email", Type = FieldType.String, Identity = new("Email") };
    private static readonly SchemaField Tenure = new() { Path = "tenure", Type = FieldType.Integer };

    private static SchemaDraft Profile(string name = "Customers", params SchemaField[] fields) =>
        new(name, SchemaClass.Profile, fields.Length == 0 ? [CustomerId, Email, Tenure] : fields);

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_profile_schema_is_stored_with_its_fields_identity_columns_and_version_1()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var (_, schemas, _, _) = f.Services("sb-a");
        var s = await schemas.CreateAsync(Profile(), "tester", Ct);
        var stored = await f.Services("sb-a").Schemas.GetAsync(s.Id, Ct);
        Assert.Equal(1, stored.Version);
        Assert.Equal(3, stored.FieldCount);
        Assert.Equal("customerId", stored.PrimaryIdentityPath);
        Assert.Equal("|CRMID|Email|", stored.NamespaceCodes);
        Assert.Equal(new IdentityMapping("Email"), stored.ToDefinition().Find("person.email")!.Identity);
        Assert.False(stored.ProfileEnabled);
    }

    [Fact]
    public async Task An_event_schema_gets_timestamp_and_event_type()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var s = await f.Services("sb-a").Schemas.CreateAsync(new SchemaDraft("Web events", SchemaClass.Event, [new SchemaField { Path = "ecid", Type = FieldType.String, Identity = new("ecid", true) }]), ct: Ct);
        var d = s.ToDefinition();
        Assert.Equal((FieldType.DateTime, true), (d.Find("timestamp")!.Type, d.Find("timestamp")!.Required));
        Assert.Equal(FieldType.String, d.Find("eventType")!.Type);
        Assert.Equal("ECID", d.Find("ecid")!.Identity!.Namespace); // stored with the registered code
    }

    [Fact]
    public async Task Schema_rules_are_refused_with_errors_per_field_and_names_are_unique_per_sandbox()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var schemas = f.Services("sb-a").Schemas;
        var rule = await Assert.ThrowsAsync<CatalogException>(() => schemas.CreateAsync(Profile("Bad",
            CustomerId, new SchemaField { Path = "other", Type = FieldType.String, Identity = new("Email", true) },
            new SchemaField { Path = "bad path", Type = FieldType.String }), ct: Ct));
        Assert.Equal(CatalogErrorKind.Rule, rule.Kind);
        Assert.Contains("bad path", rule.Errors.Keys);
        Assert.Contains("fields", rule.Errors.Keys); // two primaries

        await schemas.CreateAsync(Profile(), ct: Ct);
        var dupe = await Assert.ThrowsAsync<CatalogException>(() => f.Services("sb-a").Schemas.CreateAsync(Profile("customers"), ct: Ct));
        Assert.Equal(CatalogErrorKind.Conflict, dupe.Kind);
        await f.Services("sb-b").Schemas.CreateAsync(Profile(), ct: Ct); // another sandbox may reuse the name
    }

    [Fact]
    public async Task The_fields_guardrail_comes_from_options()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var schemas = f.Services("sb-a", new GuardrailOptions { FieldsPerSchema = 2 }).Schemas;
        var e = await Assert.ThrowsAsync<CatalogException>(() => schemas.CreateAsync(Profile(), ct: Ct));
        Assert.Contains("limit of 2", e.Message);
    }

    [Fact]
    public async Task Adding_fields_bumps_the_version_and_a_profile_enabled_schema_refuses_non_additive_changes()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var schemas = f.Services("sb-a").Schemas;
        var s = await schemas.CreateAsync(Profile(), ct: Ct);
        s = await schemas.AddFieldsAsync(s.Id, [new SchemaField { Path = "person.name.first", Type = FieldType.String }], ct: Ct);
        Assert.Equal(2, s.Version);
        await schemas.EnableProfileAsync(s.Id, ct: Ct);

        var required = await Assert.ThrowsAsync<CatalogException>(() => schemas.AddFieldsAsync(s.Id, [new SchemaField { Path = "plan", Type = FieldType.String, Required = true }], ct: Ct));
        Assert.Equal(CatalogErrorKind.Conflict, required.Kind);
        Assert.Contains("plan", required.Errors.Keys);
        var retyped = s.ToDefinition().Fields.Select(x => x.Path == "tenure" ? x with { Type = FieldType.Number } : x).ToList();
        var retype = await Assert.ThrowsAsync<CatalogException>(() => schemas.ReplaceFieldsAsync(s.Id, retyped, ct: Ct));
        Assert.Contains("tenure", retype.Errors.Keys);
        var removed = await Assert.ThrowsAsync<CatalogException>(() => schemas.ReplaceFieldsAsync(s.Id, [CustomerId], ct: Ct));
        Assert.Equal(CatalogErrorKind.Conflict, removed.Kind);

        s = await schemas.AddFieldsAsync(s.Id, [new SchemaField { Path = "plan", Type = FieldType.String }], ct: Ct);
        Assert.Equal(3, s.Version);
    }

    [Fact]
    public async Task Enabling_for_profile_needs_a_primary_identity_and_is_one_way()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var schemas = f.Services("sb-a").Schemas;
        var noPrimary = await schemas.CreateAsync(Profile("No primary", Email, Tenure), ct: Ct);
        var e = await Assert.ThrowsAsync<CatalogException>(() => schemas.EnableProfileAsync(noPrimary.Id, ct: Ct));
        Assert.Equal(CatalogErrorKind.Rule, e.Kind);
        Assert.Contains("primary identity", e.Message);

        var ok = await schemas.EnableProfileAsync((await schemas.CreateAsync(Profile(), ct: Ct)).Id, ct: Ct);
        Assert.True(ok.ProfileEnabled);
        Assert.True((await schemas.EnableProfileAsync(ok.Id, ct: Ct)).ProfileEnabled);
    }

    [Fact]
    public async Task Custom_namespaces_are_listed_after_the_built_ins_and_cannot_be_deleted_while_a_schema_uses_them()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var (namespaces, schemas, _, _) = f.Services("sb-a");
        var loyalty = await namespaces.CreateAsync("LoyaltyID", "Loyalty card", IdentityType.CrossDevice, ct: Ct);
        Assert.False(loyalty.BuiltIn);
        Assert.Equal(NormalizerKind.Id, loyalty.Normalizer);
        Assert.Equal(NormalizerKind.Email, (await namespaces.CreateAsync("WorkEmail", "Work email", IdentityType.Person, ct: Ct)).Normalizer);
        var list = await namespaces.ListAsync(Ct);
        Assert.Equal(BuiltInNamespaces.All.Select(n => n.Code).Concat(["LoyaltyID", "WorkEmail"]), list.Select(n => n.Code));
        Assert.DoesNotContain(await f.Services("sb-b").Namespaces.ListAsync(Ct), n => !n.BuiltIn);

        Assert.Equal(CatalogErrorKind.Conflict, (await Assert.ThrowsAsync<CatalogException>(() => namespaces.CreateAsync("loyaltyid", "again", IdentityType.Person, ct: Ct))).Kind);
        Assert.Equal(CatalogErrorKind.Conflict, (await Assert.ThrowsAsync<CatalogException>(() => namespaces.CreateAsync("email", "mine", IdentityType.Person, ct: Ct))).Kind);
        Assert.Equal(CatalogErrorKind.Invalid, (await Assert.ThrowsAsync<CatalogException>(() => namespaces.CreateAsync("1bad", "x", IdentityType.Person, ct: Ct))).Kind);

        var s = await schemas.CreateAsync(Profile("Loyal", CustomerId, new SchemaField { Path = "card", Type = FieldType.String, Identity = new("loyaltyid") }), ct: Ct);
        Assert.Contains("LoyaltyID", s.NamespaceCodes);
        var inUse = await Assert.ThrowsAsync<CatalogException>(() => namespaces.DeleteAsync("LoyaltyID", ct: Ct));
        Assert.Equal(CatalogErrorKind.Conflict, inUse.Kind);
        Assert.Contains("Loyal", inUse.Message);
        Assert.Equal(CatalogErrorKind.Conflict, (await Assert.ThrowsAsync<CatalogException>(() => namespaces.DeleteAsync("CRMID", ct: Ct))).Kind);
        await namespaces.DeleteAsync("WorkEmail", ct: Ct);
        Assert.Equal(CatalogErrorKind.NotFound, (await Assert.ThrowsAsync<CatalogException>(() => namespaces.DeleteAsync("WorkEmail", ct: Ct))).Kind);
    }

    [Fact]
    public async Task A_schema_using_an_unknown_namespace_is_refused()
    {
        await using var f = await CatalogFixture.CreateAsync();
        await f.Services("sb-b").Namespaces.CreateAsync("OtherSandboxId", "x", IdentityType.Person, ct: Ct);
        var e = await Assert.ThrowsAsync<CatalogException>(() => f.Services("sb-a").Schemas.CreateAsync(
            Profile("S", new SchemaField { Path = "id", Type = FieldType.String, Identity = new("OtherSandboxId", true) }), ct: Ct));
        Assert.Contains("id", e.Errors.Keys);
    }

    [Fact]
    public async Task Datasets_need_a_schema_unique_names_and_a_profile_enabled_schema_to_enable_profile()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var (_, schemas, datasets, guardrails) = f.Services("sb-a");
        var profile = await schemas.CreateAsync(Profile(), ct: Ct);
        var events = await schemas.CreateAsync(new SchemaDraft("Events", SchemaClass.Event, [CustomerId]), ct: Ct);
        var d = await datasets.CreateAsync("Customers 2024", profile.Id, ct: Ct);
        Assert.Equal((0L, 0), (d.RecordCount, d.BatchCount));
        Assert.Equal(CatalogErrorKind.Conflict, (await Assert.ThrowsAsync<CatalogException>(() => datasets.CreateAsync("customers 2024", profile.Id, ct: Ct))).Kind);
        Assert.Equal(CatalogErrorKind.Invalid, (await Assert.ThrowsAsync<CatalogException>(() => datasets.CreateAsync("x", "nope", ct: Ct))).Kind);
        Assert.Equal(CatalogErrorKind.Invalid, (await Assert.ThrowsAsync<CatalogException>(() => f.Services("sb-b").Datasets.CreateAsync("x", profile.Id, ct: Ct))).Kind);

        var e = await Assert.ThrowsAsync<CatalogException>(() => datasets.EnableProfileAsync(d.Id, ct: Ct));
        Assert.Equal(CatalogErrorKind.Rule, e.Kind);
        await schemas.EnableProfileAsync(profile.Id, ct: Ct);
        Assert.True((await datasets.EnableProfileAsync(d.Id, ct: Ct)).ProfileEnabled);

        await datasets.CreateAsync("Events", events.Id, ct: Ct);
        Assert.Equal((1, 1), await guardrails.DatasetsByClassAsync(Ct));
        var fields = await guardrails.FieldsPerSchemaAsync(Ct);
        Assert.Equal(3, fields.Single(x => x.Name == "Customers").Fields);
        var readings = await guardrails.ReadAsync(Ct);
        Assert.Equal("ok", readings.Single(r => r.Name == GuardrailUsage.ProfileDatasets).Status);
    }

    [Fact]
    public async Task Deleting_a_dataset_calls_every_hook_then_removes_it_and_system_datasets_cannot_be_deleted()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var hook = new RecordingHook();
        f.Hooks.Add(hook);
        var (_, schemas, datasets, _) = f.Services("sb-a");
        var s = await schemas.CreateAsync(Profile(), ct: Ct);
        var d = await datasets.CreateAsync("To delete", s.Id, ct: Ct);
        var sys = await datasets.CreateSystemAsync("Profile snapshots", s.Id, ct: Ct);

        await Assert.ThrowsAsync<CatalogException>(() => f.Services("sb-b").Datasets.DeleteAsync(d.Id, ct: Ct));
        await datasets.DeleteAsync(d.Id, "tester", Ct);
        Assert.Equal([d.Id], hook.Seen);
        Assert.True(hook.WasMarkedDeleted);
        await using var db = f.NewDb("sb-a");
        Assert.False(await db.Set<Dataset>().AnyAsync(x => x.Id == d.Id, Ct));

        var refused = await Assert.ThrowsAsync<CatalogException>(() => datasets.DeleteAsync(sys.Id, ct: Ct));
        Assert.Equal(CatalogErrorKind.Conflict, refused.Kind);
        Assert.Contains("system dataset", refused.Message);
    }

    [Fact]
    public async Task An_xdm_profile_schema_imports_from_the_component_tree_with_its_warnings()
    {
        await using var f = await CatalogFixture.CreateAsync();
        var entry = """
            { "$id": "https://example.com/schemas/loyal", "title": "Loyal customers", "type": "object",
              "allOf": [ { "$ref": "https://ns.adobe.com/xdm/context/profile" },
                         { "$ref": "https://ns.adobe.com/xdm/context/profile-personal-details" },
                         { "$ref": "https://ns.adobe.com/xdm/context/identitymap" },
                         { "properties": { "_acme": { "type": "object", "properties": {
                             "crmId": { "type": "string", "xdm:identity": { "namespace": "CRMID", "primary": true } } } } } } ] }
            """;
        var source = XdmSource.FromDirectory(TestData.XdmComponents(), "classes/profile.schema.json").WithFile("upload/loyal.schema.json", entry, makeEntry: true);
        var imported = await f.Services("sb-a").Schemas.ImportXdmAsync(source, ct: Ct);
        Assert.Equal("Loyal customers", imported.Schema.Name);
        Assert.Equal("_acme.crmId", imported.Schema.PrimaryIdentityPath);
        Assert.Contains(imported.Warnings, w => w.Contains("identityMap"));

        var broken = XdmSource.FromJson("""{ "title": "Broken", "type": "object", "allOf": [ { "$ref": "https://example.com/missing" } ] }""");
        var e = await Assert.ThrowsAsync<CatalogException>(() => f.Services("sb-a").Schemas.ImportXdmAsync(broken, ct: Ct));
        Assert.Equal(CatalogErrorKind.Rule, e.Kind);
        Assert.Contains("https://example.com/missing", e.Message);
    }

    private sealed class RecordingHook : IDatasetDeletionHook
    {
        public List<string> Seen { get; } = [];
        public bool WasMarkedDeleted { get; private set; }
        public Task OnDatasetDeletingAsync(Dataset dataset, CancellationToken ct)
        {
            Seen.Add(dataset.Id);
            WasMarkedDeleted = dataset.DeletedAt is not null;
            return Task.CompletedTask;
        }
    }
}
