using System.Diagnostics;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using static Enrichment.Portal.Core.Tests.Profiles.ProfileTestDb;

namespace Enrichment.Portal.Core.Tests.Profiles;

/// <summary>Real data: Parquet batches built with DuckDB from the shipped CSVs, applied to a temp SQLite profile store.</summary>
public sealed class ProfileIntegrationTests
{
    private static readonly DateTimeOffset BatchTime = new(2024, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SchemaDefinition SuperstoreCustomers => new("superstore-customers", SchemaClass.Profile,
    [
        new SchemaField { Path = "customerId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
        new SchemaField { Path = "person.name", Type = FieldType.String },
        new SchemaField { Path = "segment", Type = FieldType.String },
        new SchemaField { Path = "region", Type = FieldType.String },
    ]);

    private static SchemaDefinition SuperstoreOrders => new("superstore-orders", SchemaClass.Event,
    [
        new SchemaField { Path = "timestamp", Type = FieldType.DateTime, Required = true },
        new SchemaField { Path = "eventType", Type = FieldType.String, Required = true },
        new SchemaField { Path = "customerId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
        new SchemaField { Path = "order.id", Type = FieldType.String },
        new SchemaField { Path = "product.id", Type = FieldType.String },
        new SchemaField { Path = "commerce.sales", Type = FieldType.Number },
        new SchemaField { Path = "commerce.quantity", Type = FieldType.Integer },
    ]);

    [Fact]
    public async Task Superstore_customers_and_orders_stitch_into_793_profiles_with_their_orders()
    {
        using var t = new ProfileTestDb();
        var csv = Lit(TestData.Decompressed("superstore/superstore.csv.gz"));
        var customers = Path.Combine(t.Dir.Path, "customers.parquet");
        var orders = Path.Combine(t.Dir.Path, "orders.parquet");
        Duck($"""COPY (SELECT DISTINCT "Customer ID" AS customerId, "Customer Name" AS "person.name", Segment AS segment, Region AS region FROM read_csv({csv}) ORDER BY 1, 4) TO {Lit(customers)} (FORMAT parquet)""");
        Duck($"""COPY (SELECT CAST("Order Date" AS TIMESTAMP) AS "timestamp", 'commerce.purchase' AS eventType, "Customer ID" AS customerId, "Order ID" AS "order.id", "Product ID" AS "product.id", Sales AS "commerce.sales", CAST(Quantity AS BIGINT) AS "commerce.quantity" FROM read_csv({csv})) TO {Lit(orders)} (FORMAT parquet)""");

        var ingestor = t.Ingestor;
        var c = await ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-customers", "b1", SuperstoreCustomers, [customers], BatchTime), null, Ct);
        Assert.Equal(793, c.ProfilesCreated);
        Assert.Equal(0, c.RecordsWithoutIdentity);
        var o = await ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-orders", "b2", SuperstoreOrders, [orders], BatchTime), null, Ct);
        Assert.Equal(9994, o.Records);
        Assert.Equal(9994, o.Events);
        Assert.Equal(0, o.ProfilesCreated);
        var stats = await t.Service.StatsAsync(Ct);
        Assert.Equal(new ProfileStats(793, 793, 9994, 0), stats);

        var claire = (await t.Service.GetAsync("CRMID", "CG-12520", ct: Ct))!;
        Assert.Equal("Claire Gute", claire.Attributes["person"]!["name"]!.GetValue<string>());
        Assert.Equal("ds-customers", claire.Provenance["segment"]);
        var expected = Convert.ToInt32(DuckScalar($"""SELECT count(*) FROM read_csv({csv}) WHERE "Customer ID" = 'CG-12520'"""));
        var events = await t.Service.GetEventsAsync(claire.ProfileId, "commerce.purchase", 1000, Ct);
        Assert.Equal(expected, events.Count);
        Assert.True(events[0].Timestamp >= events[^1].Timestamp);
        Assert.NotNull(events[0].Fields["order"]!["id"]);
        // Every profile has its orders: events per profile sum to the order lines, no profile without orders.
        var perProfile = await t.Db.Set<ProfileEvent>().GroupBy(e => e.ProfileId).Select(g => g.Count()).ToListAsync(Ct);
        Assert.Equal(793, perProfile.Count);
        Assert.Equal(9994, perProfile.Sum());

        // Re-running both batches changes nothing.
        var before = await Dump(t);
        var c2 = await ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-customers", "b1", SuperstoreCustomers, [customers], BatchTime), null, Ct);
        var o2 = await ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-orders", "b2", SuperstoreOrders, [orders], BatchTime), null, Ct);
        Assert.Equal((0L, 0L, 0L), (c2.ProfilesCreated, c2.ProfilesUpdated, c2.IdentitiesAdded));
        Assert.Equal((0L, 0L, 0L), (o2.ProfilesCreated, o2.Events, o2.IdentitiesAdded));
        Assert.Equal(before, await Dump(t));

        // Snapshot: one typed row per profile.
        var policy = await new MergePolicyService(t.Db).GetDefaultAsync(t.SandboxId, Ct);
        var snap = await new ProfileSnapshotWriter(t.Db).WriteAsync(t.SandboxId, policy, Path.Combine(t.Dir.Path, "snapshot"), [SuperstoreCustomers], Ct);
        Assert.Equal(793, snap.Rows);
        Assert.Contains(("identity.CRMID", "VARCHAR"), snap.Columns);
        var glob = Lit(Path.Combine(snap.Folder, "*.parquet"));
        Assert.Equal("Claire Gute", DuckScalar($"""SELECT "person.name" FROM read_parquet({glob}) WHERE "identity.CRMID" = 'CG-12520'"""));
        Assert.Equal(793L, Convert.ToInt64(DuckScalar($"SELECT count(DISTINCT profileId) FROM read_parquet({glob})")));
    }

    private static async Task<string> Dump(ProfileTestDb t)
    {
        var profiles = await t.Db.Set<Profile>().AsNoTracking().OrderBy(p => p.Id).Select(p => p.Id + p.Attributes + p.Provenance + p.IdentityCount + p.UpdatedAt.UtcTicks).ToListAsync(Ct);
        var frags = await t.Db.Set<ProfileFragment>().AsNoTracking().OrderBy(p => p.RecordKey).Select(p => p.RecordKey + p.ProfileId + p.Attributes + p.WrittenAt.UtcTicks).ToListAsync(Ct);
        var events = await t.Db.Set<ProfileEvent>().CountAsync(Ct);
        var ids = await t.Db.Set<ProfileIdentity>().CountAsync(Ct);
        return string.Join("\n", profiles) + string.Join("\n", frags) + events + "/" + ids;
    }

    [Fact]
    public async Task Online_retail_events_stitch_4372_customers_and_anonymous_rows_to_none()
    {
        using var t = new ProfileTestDb();
        var csv = Lit(TestData.Decompressed("online_retail/online_retail.csv.gz"));
        var events = Path.Combine(t.Dir.Path, "retail.parquet");
        Duck($"""COPY (SELECT CAST(InvoiceDate AS TIMESTAMP) AS "timestamp", 'commerce.purchase' AS eventType, CAST(CustomerID AS VARCHAR) AS customerId, CAST(InvoiceNo AS VARCHAR) AS "order.id", CAST(StockCode AS VARCHAR) AS "product.id", Quantity AS "commerce.quantity", UnitPrice AS "commerce.price", Country AS country FROM read_csv({csv}, all_varchar = false)) TO {Lit(events)} (FORMAT parquet)""");
        var schema = new SchemaDefinition("retail", SchemaClass.Event,
        [
            new SchemaField { Path = "timestamp", Type = FieldType.DateTime, Required = true },
            new SchemaField { Path = "eventType", Type = FieldType.String, Required = true },
            new SchemaField { Path = "customerId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
            new SchemaField { Path = "order.id", Type = FieldType.String },
            new SchemaField { Path = "product.id", Type = FieldType.String },
            new SchemaField { Path = "commerce.quantity", Type = FieldType.Integer },
            new SchemaField { Path = "commerce.price", Type = FieldType.Number },
            new SchemaField { Path = "country", Type = FieldType.String },
        ]);
        var sw = Stopwatch.StartNew();
        var progress = new List<ProfileIngestProgress>();
        var r = await t.Ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-retail", "b1", schema, [events], BatchTime), new SyncProgress(progress), Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"online retail: {sw.Elapsed}, identity {r.IdentityStage}, profile {r.ProfileStage}");
        Assert.Equal(541_909, r.Records);
        Assert.Equal(135_080, r.RecordsWithoutIdentity);
        Assert.Equal(4_372, r.ProfilesCreated);
        Assert.Equal(541_909 - 135_080, r.Events);
        Assert.NotEmpty(progress);
        Assert.Equal(new ProfileStats(4_372, 4_372, 406_829, 0), await t.Service.StatsAsync(Ct));
        var p = (await t.Service.GetAsync("CRMID", "17850", ct: Ct))!;
        Assert.NotEmpty(await t.Service.GetEventsAsync(p.ProfileId, "commerce.purchase", 5, Ct));
    }

    private sealed class SyncProgress(List<ProfileIngestProgress> list) : IProgress<ProfileIngestProgress>
    {
        public void Report(ProfileIngestProgress value) { lock (list) list.Add(value); }
    }

    [Fact]
    public async Task Crafted_feed_where_a_cookie_links_two_emails_merges_the_profiles()
    {
        using var t = new ProfileTestDb();
        var crm = Path.Combine(t.Dir.Path, "crm.parquet");
        var web = Path.Combine(t.Dir.Path, "web.parquet");
        Duck($"""COPY (SELECT * FROM (VALUES ('C1', 'Ann@X.com ', 'Ann', 'gold'), ('C2', 'bob@x.com', 'Bob', 'silver')) v(crmId, email, "person.name", tier)) TO {Lit(crm)} (FORMAT parquet)""");
        Duck($"""COPY (SELECT * FROM (VALUES (TIMESTAMP '2024-01-01 10:00:00', 'web.view', 'k1', 'ann@x.com'), (TIMESTAMP '2024-01-02 10:00:00', 'web.view', 'k1', NULL), (TIMESTAMP '2024-01-03 10:00:00', 'web.view', 'k1', 'BOB@x.com')) v("timestamp", eventType, cookieId, email)) TO {Lit(web)} (FORMAT parquet)""");
        await t.Ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-crm", "b1", TestSchemas.Crm, [crm], BatchTime), null, Ct);
        var ann = (await t.Service.GetAsync("Email", "ann@x.com", ct: Ct))!;
        var bob = (await t.Service.GetAsync("Email", "bob@x.com", ct: Ct))!;
        Assert.NotEqual(ann.ProfileId, bob.ProfileId);
        var r = await t.Ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-web", "b2", TestSchemas.Web, [web], BatchTime), null, Ct);
        Assert.Equal(1, r.ProfilesMerged);
        Assert.Equal(3, r.Events);
        var merged = (await t.Service.GetAsync("CookieID", "k1", ct: Ct))!;
        Assert.Equal(merged.ProfileId, (await t.Service.GetAsync("Email", "ann@x.com", ct: Ct))!.ProfileId);
        Assert.Equal(merged.ProfileId, (await t.Service.GetAsync("CRMID", "C2", ct: Ct))!.ProfileId);
        Assert.Contains(merged.ProfileId, new[] { ann.ProfileId, bob.ProfileId });
        Assert.Equal(5, merged.Identities.Count);
        Assert.Equal(1, (await t.Service.StatsAsync(Ct)).Profiles);
        Assert.Equal(3, (await t.Service.GetEventsAsync(bob.ProfileId, ct: Ct)).Count);
        var graph = await t.Service.GetGraphAsync(merged.ProfileId, Ct);
        Assert.Equal(5, graph.Nodes.Count);
        Assert.Contains(graph.Edges, e => e.DatasetId == "ds-web");
    }

    [Fact]
    public async Task Privacy_delete_leaves_no_trace_in_graph_store_lake_or_snapshot()
    {
        using var t = new ProfileTestDb();
        var lake = Path.Combine(t.Dir.Path, "lake");
        Directory.CreateDirectory(lake);
        var crm = Path.Combine(lake, "crm.parquet");
        var web = Path.Combine(lake, "web.parquet");
        Duck($"""COPY (SELECT * FROM (VALUES ('C1', ' Jane@X.com', 'Jane', 'gold'), ('C2', 'bob@x.com', 'Bob', 'silver'), ('C3', 'cy@x.com', 'Cy', NULL)) v(crmId, email, "person.name", tier)) TO {Lit(crm)} (FORMAT parquet)""");
        Duck($"""COPY (SELECT * FROM (VALUES (TIMESTAMP '2024-01-01 10:00:00', 'web.view', 'k1', 'jane@x.com', NULL), (TIMESTAMP '2024-01-02 10:00:00', 'web.view', 'k1', NULL, NULL), (TIMESTAMP '2024-01-02 11:00:00', 'web.view', 'k9', NULL, 'C2'), (TIMESTAMP '2024-01-03 10:00:00', 'web.view', NULL, NULL, NULL)) v("timestamp", eventType, cookieId, email, crmId)) TO {Lit(web)} (FORMAT parquet)""");
        await t.Ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-crm", "b1", TestSchemas.Crm, [crm], BatchTime), null, Ct);
        await t.Ingestor.ApplyBatchAsync(new ProfileBatch(t.SandboxId, "ds-web", "b2", TestSchemas.Web, [web], BatchTime), null, Ct);
        var jane = (await t.Service.GetAsync("CookieID", "k1", ct: Ct))!;
        Assert.Equal(3, jane.Identities.Count);

        var deleted = await new PrivacyService(t.Db).DeleteAsync(t.SandboxId, "Email", "JANE@x.com", Ct);
        Assert.NotNull(deleted);
        Assert.Equal(jane.ProfileId, deleted.ProfileId);
        Assert.Equal(2, deleted.Events);
        var byNs = deleted.Identities.GroupBy(i => i.Namespace).ToDictionary(g => g.Key, g => (IReadOnlyCollection<string>)g.Select(i => i.Id).ToList());
        // The lead maps namespaces to each dataset's identity columns; here the columns carry the namespace's name.
        var columns = new Dictionary<string, IReadOnlyCollection<string>>
        {
            ["email"] = byNs.GetValueOrDefault("Email", []),
            ["crmId"] = byNs.GetValueOrDefault("CRMID", []),
            ["cookieId"] = byNs.GetValueOrDefault("CookieID", []),
        };
        var removed = await LakeRowRemover.RemoveRowsAsync([crm, web], columns, new Dictionary<string, NormalizerKind> { ["email"] = NormalizerKind.Email }, Ct);
        Assert.Equal(3, removed);

        Assert.Null(await t.Service.GetAsync("Email", "jane@x.com", ct: Ct));
        Assert.Null(await t.Service.GetAsync("CookieID", "k1", ct: Ct));
        Assert.Null(await t.Service.GetByIdAsync(jane.ProfileId, ct: Ct));
        var graph = await t.Service.GetGraphAsync(jane.ProfileId, Ct);
        Assert.Empty(graph.Nodes);
        Assert.Empty(graph.Edges);
        Assert.Empty(await t.Service.GetEventsAsync(jane.ProfileId, ct: Ct));
        Assert.Equal(0L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(crm)}) WHERE lower(trim(email)) = 'jane@x.com' OR crmId = 'C1'")));
        Assert.Equal(2L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(crm)})")));
        Assert.Equal(0L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(web)}) WHERE cookieId = 'k1'")));
        Assert.Equal(2L, Convert.ToInt64(DuckScalar($"SELECT count(*) FROM read_parquet({Lit(web)})"))); // the anonymous row stays
        Assert.Empty(Directory.GetFiles(lake, "*.tmp"));

        var policy = await new MergePolicyService(t.Db).GetDefaultAsync(t.SandboxId, Ct);
        var snap = await new ProfileSnapshotWriter(t.Db).WriteAsync(t.SandboxId, policy, Path.Combine(t.Dir.Path, "snapshot"), [TestSchemas.Crm], Ct);
        Assert.Equal(2, snap.Rows);
        var glob = Lit(Path.Combine(snap.Folder, "*.parquet"));
        Assert.Equal(0L, Convert.ToInt64(DuckScalar($"""SELECT count(*) FROM read_parquet({glob}) WHERE profileId = '{jane.ProfileId}' OR "identity.Email" = 'jane@x.com' OR email ILIKE '%jane%'""")));
    }

    private static string Lit(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
}
