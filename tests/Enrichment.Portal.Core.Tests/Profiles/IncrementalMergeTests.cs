using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using static Enrichment.Portal.Core.Tests.Profiles.ProfileTestDb;

namespace Enrichment.Portal.Core.Tests.Profiles;

/// <summary>
/// The profile stage patches the stored merged profile when only one dataset's fragments of a profile changed (instead of
/// re-merging every fragment). These tests check it against the definition: after every batch, a full re-merge of every
/// profile (<see cref="ProfileIngestor.RematerializeAsync"/>) must find nothing to change, under the timestamp policy and
/// under dataset precedence, with overlapping attributes, map keys from several datasets, late (older) records, several
/// fragments of one dataset in one profile, and profile merges.
/// </summary>
public sealed class IncrementalMergeTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SchemaDefinition Scores => new("scores", SchemaClass.Profile,
    [
        new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
        new SchemaField { Path = "insights", Type = FieldType.Map, ValueType = FieldType.Object },
        new SchemaField { Path = "tier", Type = FieldType.String },
    ]);

    [Theory]
    [InlineData("sqlite", MergeMethods.Timestamp, 11)]
    [InlineData("sqlite", MergeMethods.Timestamp, 12)]
    [InlineData("sqlite", MergeMethods.DatasetPrecedence, 21)]
    [InlineData("sqlite", MergeMethods.DatasetPrecedence, 22)]
    [InlineData("postgres", MergeMethods.Timestamp, 13)]
    [InlineData("postgres", MergeMethods.DatasetPrecedence, 23)]
    public async Task Patched_profiles_equal_a_full_re_merge_after_every_batch(string provider, string method, int seed)
    {
        const string sandbox = "sbx-patch";
        await using var catalog = await TestCatalog.CreateAsync(provider, sandbox);
        await using var db = catalog.Open();
        var ingestor = new ProfileIngestor(db);
        if (method == MergeMethods.DatasetPrecedence)
            await new MergePolicyService(db).CreateAsync(sandbox, "precedence", method, ["ds-scores", "ds-crm"], isDefault: true, Ct);
        var rng = new Random(seed);
        long patched = 0, full = 0;
        string[] tiers = ["gold", "silver", "bronze"];
        for (var batch = 0; batch < 30; batch++)
        {
            // Batch times go forward mostly, sometimes back (a late file): fragments then keep their newer values.
            var at = T0.AddHours(batch * 3 + rng.Next(-8, 4));
            var records = new List<IReadOnlyDictionary<string, object?>>();
            var dataset = rng.Next(4) switch { 0 => "ds-crm", 1 => "ds-crm2", _ => "ds-scores" };
            for (var i = 0; i < rng.Next(1, 9); i++)
            {
                var c = "C" + rng.Next(12);
                if (dataset == "ds-scores")
                {
                    var model = rng.Next(3) switch { 0 => "churn", 1 => "clv", _ => "affinity" };
                    var rec = R(("crmId", c), ("insights", new JsonObject { [model] = new JsonObject { ["score"] = Math.Round(rng.NextDouble(), 3), ["batch"] = batch } }));
                    if (rng.Next(5) == 0) rec["tier"] = tiers[rng.Next(3)]; // the scores dataset also provides a path the CRM provides
                    records.Add(rec);
                }
                else
                {
                    var rec = R(("crmId", c), ("tenure", (long)rng.Next(100)));
                    if (rng.Next(2) == 0) rec["tier"] = tiers[rng.Next(3)];
                    if (rng.Next(3) == 0) rec["person.name"] = "N" + rng.Next(50);
                    if (rng.Next(4) == 0) rec["email"] = "e" + rng.Next(8) + "@x.com"; // shared emails merge profiles
                    if (rng.Next(6) == 0) rec["insights"] = new JsonObject { ["churn"] = new JsonObject { ["score"] = 0.5, ["from"] = "crm" } };
                    records.Add(rec);
                }
            }
            var schema = dataset == "ds-scores" ? Scores : TestSchemas.Crm;
            var applied = await ingestor.ApplyRecordsAsync(new ProfileRecordBatch(sandbox, dataset, schema, records, at), Ct);
            patched += applied.ProfilesPatched;
            full += applied.ProfilesMergedInFull;
            var fixedUp = await ingestor.RematerializeAsync(sandbox, Ct);
            Assert.True(fixedUp == 0, $"batch {batch} ({dataset}): a full re-merge changed {fixedUp} profile(s)");
        }
        Assert.True(await db.Set<ProfileFragment>().CountAsync(f => f.DatasetId == "ds-scores", Ct) > 0);
        // Both paths ran: patches, and full merges (merge survivors and paths another dataset provided).
        Assert.True(patched > 10, $"{patched} patched");
        Assert.True(full > 5, $"{full} merged in full");
    }

    [Fact]
    public async Task A_dataset_that_newly_overtakes_another_on_a_path_is_merged_in_full()
    {
        using var t = new ProfileTestDb();
        await t.ApplyAsync("ds-crm", TestSchemas.Crm, T0, R(("crmId", "C1"), ("tier", "gold"), ("tenure", 3L)));
        // The scores fragment is older than the CRM's: the CRM's tier stays.
        await t.ApplyAsync("ds-scores", Scores, T0.AddDays(-1), R(("crmId", "C1"), ("tier", "bronze"), ("insights", new JsonObject { ["churn"] = new JsonObject { ["score"] = 0.2 } })));
        var p = (await t.Service.GetAsync("CRMID", "C1", ct: Ct))!;
        Assert.Equal("gold", p.Attributes["tier"]!.GetValue<string>());
        Assert.Equal("ds-crm", p.Provenance["tier"]);
        Assert.Equal("ds-scores", p.Provenance["insights.churn"]);
        // A newer record: the scores fragment (now newer than the CRM's) wins tier, which the CRM provided until now.
        await t.ApplyAsync("ds-scores", Scores, T0.AddDays(2), R(("crmId", "C1"), ("tier", "silver")));
        p = (await t.Service.GetAsync("CRMID", "C1", ct: Ct))!;
        Assert.Equal("silver", p.Attributes["tier"]!.GetValue<string>());
        Assert.Equal("ds-scores", p.Provenance["tier"]);
        Assert.Equal(3, p.Attributes["tenure"]!.GetValue<long>());
        Assert.Equal(0.2, p.Insights["churn"]!["score"]!.GetValue<double>());
        Assert.Equal(0, await t.Ingestor.RematerializeAsync(t.SandboxId, Ct));
    }
}
