using DuckDB.NET.Data;

namespace Enrichment.Portal.Core.Tests.Query;

/// <summary>Online Retail converted once to Parquet in a lake-like layout: two batches of sandbox s1, and a dataset of sandbox s2.</summary>
public sealed class RetailLakeFixture : IDisposable
{
    private readonly TestData.TempDir _dir = TestData.NewTempDir();

    public RetailLakeFixture()
    {
        var csv = TestData.Decompressed("online_retail/online_retail.csv.gz");
        Batch1 = Path.Combine(_dir.Path, "lake", "s1", "retail", "b1", "part-0.parquet");
        Batch2 = Path.Combine(_dir.Path, "lake", "s1", "retail", "b2", "part-0.parquet");
        OtherSandboxFile = Path.Combine(_dir.Path, "lake", "s2", "secret", "b1", "part-0.parquet");
        foreach (var f in new[] { Batch1, Batch2, OtherSandboxFile }) Directory.CreateDirectory(Path.GetDirectoryName(f)!);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var source = $"read_csv('{csv}', header = true)";
        command.CommandText =
            $"CREATE TABLE retail AS SELECT row_number() OVER () AS rn, * FROM {source};" +
            $"COPY (SELECT * EXCLUDE (rn) FROM retail WHERE rn <= 300000) TO '{Batch1}' (FORMAT parquet);" +
            $"COPY (SELECT * EXCLUDE (rn) FROM retail WHERE rn > 300000) TO '{Batch2}' (FORMAT parquet);" +
            $"COPY (SELECT 'top secret' AS secret) TO '{OtherSandboxFile}' (FORMAT parquet);";
        command.ExecuteNonQuery();
    }

    public string Root => _dir.Path;
    public string Batch1 { get; }
    public string Batch2 { get; }
    public string OtherSandboxFile { get; }

    /// <summary>The tables of sandbox s1: retail over its two batches (the second given as a glob).</summary>
    public IReadOnlyList<Enrichment.Portal.Core.Query.TableSource> Tables =>
    [
        new("online_retail", [Batch1, Path.Combine(Path.GetDirectoryName(Batch2)!, "*.parquet")]),
    ];

    public void Dispose() => _dir.Dispose();
}
