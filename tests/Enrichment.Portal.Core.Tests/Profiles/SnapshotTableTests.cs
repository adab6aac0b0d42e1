using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Tests.Catalog;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Tests.Profiles;

/// <summary>
/// A profile snapshot dataset keeps its newest snapshots as batches, each a full copy of the profiles at its time: its
/// own query table, <c>profile_snapshot</c> and every other reader of the dataset's data see the newest one only,
/// while a privacy rewrite still reaches every kept snapshot. Ordinary datasets still read all their batches.
/// </summary>
public sealed class SnapshotTableTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Snapshot_dataset_table_and_profile_snapshot_show_only_the_newest_snapshot()
    {
        await using var catalog = await CatalogFixture.CreateAsync();
        using var data = TestData.NewTempDir();
        var (_, schemas, datasets, _) = catalog.Services("sb-a");
        var fields = new List<SchemaField> { new() { Path = "profileId", Type = FieldType.String }, new() { Path = "tier", Type = FieldType.String } };
        var snapSchema = await schemas.CreateAsync(new SchemaDraft("snap", SchemaClass.Profile, fields), "test", Ct);
        var snapshot = await datasets.CreateSystemAsync(ProfileSnapshots.NamePrefix + "Default Timeout-based", snapSchema.Id, ct: Ct);
        var crmSchema = await schemas.CreateAsync(new SchemaDraft("crm", SchemaClass.Profile, fields), "test", Ct);
        var crm = await datasets.CreateAsync("crm", crmSchema.Id, ct: Ct);

        var db = catalog.NewDb("sb-a");
        var lake = new LakeCatalog(db, Options.Create(new PortalOptions { DataDirectory = data.Path }));
        // Three kept snapshots (2, 3 and then 4 profiles), written out of order; a half-written fourth (no _SUCCESS).
        WriteBatch(lake.BatchFolder("sb-a", snapshot.Id, "snap-20240103020000000-cccccc"), 4);
        WriteBatch(lake.BatchFolder("sb-a", snapshot.Id, "snap-20240101020000000-aaaaaa"), 2);
        WriteBatch(lake.BatchFolder("sb-a", snapshot.Id, "snap-20240102020000000-bbbbbb"), 3);
        WriteBatch(lake.BatchFolder("sb-a", snapshot.Id, "snap-20240104020000000-dddddd"), 9, committed: false);
        // An ordinary dataset with two batches: both are its data.
        WriteBatch(lake.BatchFolder("sb-a", crm.Id, "b1"), 2);
        WriteBatch(lake.BatchFolder("sb-a", crm.Id, "b2"), 5);

        var queries = new SandboxQueries(db, lake, new QueryService(), schemas, datasets, Options.Create(new QueryOptions()), TimeProvider.System, new QueryAdmission());
        var tables = await queries.TablesAsync(Ct);
        var snapTable = Assert.Single(tables, t => t.DatasetId == snapshot.Id && !t.IsSnapshot);
        var profileSnapshot = Assert.Single(tables, t => t.Name == SandboxQueries.SnapshotTable);
        Assert.Equal(snapshot.Id, profileSnapshot.DatasetId);
        var crmTable = Assert.Single(tables, t => t.DatasetId == crm.Id);

        var caller = new QueryCaller("user:test", "test");
        async Task<long> CountAsync(string table) =>
            Convert.ToInt64((await queries.RunAsync($"SELECT count(*) AS n, count(DISTINCT tier) AS b FROM \"{table}\"", null, null, caller, Ct)).Rows[0][0],
                System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(4, await CountAsync(snapTable.Name));
        Assert.Equal(4, await CountAsync(SandboxQueries.SnapshotTable));
        Assert.Equal(7, await CountAsync(crmTable.Name));
        var newest = (await queries.RunAsync($"SELECT DISTINCT tier FROM \"{snapTable.Name}\"", null, null, caller, Ct)).Rows;
        Assert.Equal("snap-20240103020000000-cccccc", Assert.Single(newest)[0]);

        // The lake catalog's tables (used by the API and jobs) agree; a privacy rewrite sees every kept snapshot.
        var lakeTables = await lake.QueryTablesAsync(Ct);
        Assert.Single(Assert.Single(lakeTables, t => t.Name == SandboxQueries.SnapshotTable).Files);
        Assert.Single(Assert.Single(lakeTables, t => t.Name == snapTable.Name).Files);
        var snapLake = (await lake.FindAsync(snapshot.Id, Ct))!;
        Assert.True(LakeCatalog.IsSnapshot(snapLake));
        Assert.Equal(3, LakeCatalog.AllDataFiles(snapLake).Count);
        Assert.Equal(2, LakeCatalog.DataFiles((await lake.FindAsync(crm.Id, Ct))!).Count);
    }

    /// <summary>A batch folder with one Parquet part of <paramref name="rows"/> profiles whose <c>tier</c> is the batch id.</summary>
    private static void WriteBatch(string folder, int rows, bool committed = true)
    {
        Directory.CreateDirectory(folder);
        var part = Path.Combine(folder, "part-00000.parquet").Replace("'", "''", StringComparison.Ordinal);
        var batch = Path.GetFileName(folder);
        ProfileTestDb.Duck($"COPY (SELECT 'p' || i AS profileId, '{batch}' AS tier FROM range({rows}) t(i)) TO '{part}' (FORMAT parquet)");
        if (committed) File.WriteAllText(Path.Combine(folder, LakeFolders.SuccessMarker), "");
    }
}
