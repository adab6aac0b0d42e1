using Enrichment.Portal.Core.ProfileStore;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Profiles;
using Microsoft.EntityFrameworkCore;
using static Enrichment.Portal.Core.Tests.Profiles.ProfileTestDb;

namespace Enrichment.Portal.Core.Tests.Profiles;

public sealed class IdentityGraphTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Normalization_makes_case_and_space_variants_one_identity()
    {
        using var t = new ProfileTestDb();
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0, R(("email", "Jane@X.com "), ("person.name", "Jane")));
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0.AddHours(1), R(("email", "jane@x.com"), ("crmId", "C-17")));
        var stats = await t.Service.StatsAsync(Ct);
        Assert.Equal(1, stats.Profiles);
        Assert.Equal(2, stats.Identities);
        var p = await t.Service.GetAsync("email", "  JANE@x.COM", ct: Ct);
        Assert.NotNull(p);
        Assert.Contains(p.Identities, i => i.Namespace == "Email" && i.Id == "jane@x.com");
        Assert.Contains(p.Identities, i => i.Namespace == "CRMID" && i.Id == "C-17");
        Assert.Equal(p.ProfileId, (await t.Service.GetAsync("CRMID", "C-17", ct: Ct))!.ProfileId);
        Assert.Null(await t.Service.GetAsync("Email", "nobody@x.com", ct: Ct));
    }

    [Fact]
    public async Task Identities_of_records_union_across_records_and_phone_normalizes()
    {
        using var t = new ProfileTestDb();
        var r = await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0,
            R(("crmId", "C1"), ("email", "a@x.com")),
            R(("email", "a@x.com"), ("phone", "+1 (555) 010-0000")),
            R(("phone", "15550100000"), ("cookieId", "k1")),
            R(("crmId", "C2"), ("email", "b@x.com")),
            R(("person.name", "nobody")));
        Assert.Equal(5, r.Records);
        Assert.Equal(1, r.RecordsWithoutIdentity);
        Assert.Equal(2, r.ProfilesCreated);
        Assert.Equal(6, r.IdentitiesAdded);
        var p = await t.Service.GetAsync("CookieID", "k1", ct: Ct);
        Assert.NotNull(p);
        Assert.Equal(4, p.Identities.Count);
        Assert.Equal(p.ProfileId, (await t.Service.GetAsync("CRMID", "C1", ct: Ct))!.ProfileId);
        var graph = await t.Service.GetGraphAsync(p.ProfileId, Ct);
        Assert.Equal(4, graph.Nodes.Count);
        Assert.Equal(3, graph.Edges.Count);
        Assert.All(graph.Edges, e => Assert.Equal("ds-crm", e.DatasetId));
        Assert.NotEqual(p.ProfileId, (await t.Service.GetAsync("CRMID", "C2", ct: Ct))!.ProfileId);
    }

    [Fact]
    public async Task A_cookie_linking_two_profiles_merges_them_and_the_old_id_resolves()
    {
        using var t = new ProfileTestDb();
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0, R(("email", "a@x.com"), ("cookieId", "k1"), ("person.name", "Ann"), ("tier", "gold")));
        var a = (await t.Service.GetAsync("Email", "a@x.com", ct: Ct))!;
        await Task.Delay(5, Ct);
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0.AddDays(1), R(("email", "b@x.com"), ("cookieId", "k2"), ("tenure", 12L)));
        var b = (await t.Service.GetAsync("Email", "b@x.com", ct: Ct))!;
        Assert.NotEqual(a.ProfileId, b.ProfileId);
        await t.ApplyAsync("ds-web", TestSchemas.Web, T0.AddDays(2), R(("timestamp", T0.AddDays(2)), ("eventType", "web.pageView"), ("cookieId", "k2"), ("email", "a@x.com"), ("page", "/home")));
        var r = await t.ApplyAsync("ds-web", TestSchemas.Web, T0.AddDays(3), R(("timestamp", T0.AddDays(3)), ("eventType", "web.click"), ("cookieId", "k1")));
        Assert.Equal(0, r.ProfilesCreated);

        var merged = (await t.Service.GetAsync("Email", "b@x.com", ct: Ct))!;
        Assert.Equal(a.ProfileId, merged.ProfileId); // the older id survives
        Assert.Equal(4, merged.Identities.Count);
        Assert.Equal("Ann", merged.Attributes["person"]!["name"]!.GetValue<string>());
        Assert.Equal(12, merged.Attributes["tenure"]!.GetValue<long>());
        Assert.Equal(a.ProfileId, await t.Service.ResolveAsync(b.ProfileId, Ct));
        Assert.Equal(a.ProfileId, (await t.Service.GetByIdAsync(b.ProfileId, ct: Ct))!.ProfileId);
        Assert.Equal(1, (await t.Service.StatsAsync(Ct)).Profiles);
        var events = await t.Service.GetEventsAsync(b.ProfileId, ct: Ct);
        Assert.Equal(2, events.Count);
        Assert.Equal("web.click", events[0].EventType);
        Assert.Equal("/home", events[1].Fields["page"]!.GetValue<string>());
        Assert.Single(await t.Service.GetEventsAsync(a.ProfileId, "web.pageView", ct: Ct));
        Assert.Single(await t.Service.GetEventsAsync(a.ProfileId, limit: 1, ct: Ct));
    }

    [Fact]
    public async Task Non_people_namespaces_never_link()
    {
        using var t = new ProfileTestDb();
        var schema = TestSchemas.Crm with { Fields = [.. TestSchemas.Crm.Fields, new Enrichment.Portal.Core.Schemas.SchemaField { Path = "storeId", Type = Enrichment.Portal.Core.Schemas.FieldType.String, Identity = new Enrichment.Portal.Core.Schemas.IdentityMapping("StoreID") }] };
        var ingestor = new ProfileIngestor(t.Db);
        await ingestor.ApplyRecordsAsync(new ProfileRecordBatch(t.SandboxId, "ds", schema,
            [R(("email", "a@x.com"), ("storeId", "S1")), R(("email", "b@x.com"), ("storeId", "S1"))], T0)
        {
            Namespaces = code => code == "StoreID" ? new Enrichment.Portal.Core.Identity.NamespaceInfo("StoreID", "Store", Enrichment.Portal.Core.Identity.IdentityType.NonPeople, Enrichment.Portal.Core.Identity.NormalizerKind.Id, false) : Enrichment.Portal.Core.Identity.BuiltInNamespaces.Find(code),
        }, Ct);
        Assert.Equal(2, (await t.Service.StatsAsync(Ct)).Profiles);
        Assert.Equal(2, (await t.Service.StatsAsync(Ct)).Identities);
    }

    [Fact]
    public async Task Graph_limit_evicts_oldest_cookies_first_then_oldest_others()
    {
        using var t = new ProfileTestDb(options: new ProfileStoreOptions { MaxIdentitiesPerGraph = 3 });
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0, R(("email", "a@x.com"), ("cookieId", "k1")));
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0.AddHours(1), R(("email", "a@x.com"), ("cookieId", "k2")));
        Assert.Equal(0, (await t.Service.StatsAsync(Ct)).GraphsOverLimit);
        var r = await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0.AddHours(2), R(("email", "a@x.com"), ("crmId", "C1")));
        Assert.Equal(1, r.IdentitiesEvicted); // k1: the oldest cookie
        Assert.Equal(1, (await t.Service.StatsAsync(Ct)).GraphsOverLimit);
        var p = (await t.Service.GetAsync("Email", "a@x.com", ct: Ct))!;
        AssertIds(["C1", "a@x.com", "k2"], p);
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0.AddHours(3), R(("email", "a@x.com"), ("cookieId", "k3")));
        p = (await t.Service.GetAsync("Email", "a@x.com", ct: Ct))!;
        AssertIds(["C1", "a@x.com", "k3"], p);
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0.AddHours(4), R(("email", "a@x.com"), ("phone", "123")));
        p = (await t.Service.GetAsync("Email", "a@x.com", ct: Ct))!;
        // The last cookie (k3, the newest identity but a cookie) goes before any person identity.
        AssertIds(["123", "C1", "a@x.com"], p);
        var graph = await t.Service.GetGraphAsync(p.ProfileId, Ct);
        Assert.Equal(new[] { "k1", "k2", "k3" }, graph.Evicted.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Equal(1, (await t.Service.StatsAsync(Ct)).GraphsOverLimit);
        Assert.Null(await t.Service.GetAsync("CookieID", "k1", ct: Ct));

        // Only person identities left: the oldest goes.
        using var t2 = new ProfileTestDb(options: new ProfileStoreOptions { MaxIdentitiesPerGraph = 2 });
        await t2.ApplyAsync("ds", TestSchemas.Crm, T0, R(("email", "old@x.com")));
        await t2.ApplyAsync("ds", TestSchemas.Crm, T0.AddHours(1), R(("email", "old@x.com"), ("crmId", "C9")));
        await t2.ApplyAsync("ds", TestSchemas.Crm, T0.AddDays(1), R(("crmId", "C9"), ("phone", "555")));
        var q = (await t2.Service.GetAsync("CRMID", "C9", ct: Ct))!;
        AssertIds(["555", "C9"], q);
        Assert.Equal(1, await t2.Db.Set<IdentityEviction>().CountAsync(Ct));
    }

    private static void AssertIds(string[] expected, ProfileView p) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), p.Identities.Select(i => i.Id).Order(StringComparer.Ordinal));

    [Fact]
    public async Task Merge_policies_resolve_conflicting_values()
    {
        using var t = new ProfileTestDb();
        await t.ApplyAsync("ds-b", TestSchemas.Crm, T0, R(("crmId", "C1"), ("tier", "silver"), ("person.name", "Jane B")));
        await t.ApplyAsync("ds-a", TestSchemas.Crm, T0.AddDays(1), R(("crmId", "C1"), ("tier", "gold")));
        var p = (await t.Service.GetAsync("CRMID", "C1", ct: Ct))!;
        Assert.Equal("gold", p.Attributes["tier"]!.GetValue<string>()); // newest wins (default timestamp policy)
        Assert.Equal("ds-a", p.Provenance["tier"]);
        Assert.Equal("ds-b", p.Provenance["person.name"]);
        var policies = new MergePolicyService(t.Db);
        var byDataset = await policies.CreateAsync(t.SandboxId, "B first", MergeMethods.DatasetPrecedence, ["ds-b", "ds-a"], isDefault: false, Ct);
        var q = (await t.Service.GetAsync("CRMID", "C1", byDataset.Id, Ct))!;
        Assert.Equal("silver", q.Attributes["tier"]!.GetValue<string>());
        Assert.Equal("ds-b", q.Provenance["tier"]);
        var all = await policies.ListAsync(t.SandboxId, Ct);
        Assert.Single(all, x => x.IsDefault);
        Assert.Equal(MergePolicy.DefaultName, all.Single(x => x.IsDefault).Name);

        // Making it the default and re-materializing changes the stored merge.
        await policies.SetDefaultAsync(t.SandboxId, byDataset.Id, Ct);
        Assert.Equal(1, await t.Ingestor.RematerializeAsync(t.SandboxId, Ct));
        Assert.Equal("silver", (await t.Service.GetAsync("CRMID", "C1", ct: Ct))!.Attributes["tier"]!.GetValue<string>());
    }

    [Fact]
    public async Task Insights_maps_merge_key_wise_across_datasets_and_batches()
    {
        using var t = new ProfileTestDb();
        await t.ApplyAsync("ds-a", TestSchemas.Crm, T0, R(("crmId", "C1"), ("insights", new Dictionary<string, object?> { ["churn"] = new Dictionary<string, object?> { ["score"] = 0.81, ["modelVersion"] = "v1" } })));
        await t.ApplyAsync("ds-b", TestSchemas.Crm, T0.AddDays(1), R(("crmId", "C1"), ("insights", "{\"clv\":{\"value\":412.5}}")));
        // Same dataset, later batch with another model: churn stays.
        await t.ApplyAsync("ds-a", TestSchemas.Crm, T0.AddDays(2), R(("crmId", "C1"), ("insights", new JsonObject { ["engagement"] = new JsonObject { ["score"] = 0.3 } })));
        var p = (await t.Service.GetAsync("CRMID", "C1", ct: Ct))!;
        Assert.Equal(0.81, p.Insights["churn"]!["score"]!.GetValue<double>());
        Assert.Equal(412.5, p.Insights["clv"]!["value"]!.GetValue<double>());
        Assert.Equal(0.3, p.Insights["engagement"]!["score"]!.GetValue<double>());
        Assert.False(p.Attributes.ContainsKey("insights"));
        Assert.Equal("ds-b", p.Provenance["insights.clv"]);
    }

    [Fact]
    public async Task Rerunning_streamed_records_changes_nothing()
    {
        using var t = new ProfileTestDb();
        var records = new[]
        {
            R(("timestamp", T0), ("eventType", "view"), ("cookieId", "k1"), ("email", "a@x.com")),
            R(("timestamp", T0.AddMinutes(1)), ("eventType", "view"), ("cookieId", "k1")),
        };
        var first = await t.ApplyAsync("ds-web", TestSchemas.Web, T0, records);
        Assert.Equal(2, first.Events);
        var before = await t.Service.StatsAsync(Ct);
        var again = await t.ApplyAsync("ds-web", TestSchemas.Web, T0, records);
        Assert.Equal(0, again.Events);
        Assert.Equal(0, again.ProfilesCreated);
        Assert.Equal(0, again.IdentitiesAdded);
        Assert.Equal(before, await t.Service.StatsAsync(Ct));
    }
}
