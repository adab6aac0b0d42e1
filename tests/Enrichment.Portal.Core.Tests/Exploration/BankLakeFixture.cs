using DuckDB.NET.Data;

namespace Enrichment.Portal.Core.Tests.Exploration;

/// <summary>Bank Marketing (bank-full) converted once to Parquet, in two batch files; yes/no columns kept as text as ingestion would.</summary>
public sealed class BankLakeFixture : IDisposable
{
    private readonly TestData.TempDir _dir = TestData.NewTempDir();

    public BankLakeFixture()
    {
        var csv = TestData.Decompressed("bank_marketing/bank-full.csv.gz");
        Files = [Path.Combine(_dir.Path, "b1", "part-0.parquet"), Path.Combine(_dir.Path, "b2", "part-0.parquet")];
        foreach (var f in Files) Directory.CreateDirectory(Path.GetDirectoryName(f)!);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            $"CREATE TABLE bank AS SELECT row_number() OVER () AS rn, * FROM read_csv('{csv}', delim = ';', header = true, " +
            "types = {'y': 'VARCHAR', 'default': 'VARCHAR', 'housing': 'VARCHAR', 'loan': 'VARCHAR'});" +
            $"COPY (SELECT * EXCLUDE (rn) FROM bank WHERE rn <= 20000) TO '{Files[0]}' (FORMAT parquet);" +
            $"COPY (SELECT * EXCLUDE (rn) FROM bank WHERE rn > 20000) TO '{Files[1]}' (FORMAT parquet);";
        command.ExecuteNonQuery();
    }

    public IReadOnlyList<string> Files { get; }

    /// <summary>A scalar computed directly with DuckDB over the fixture's files (the reference for the tests).</summary>
    public object? Scalar(string selectOverBank)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"WITH bank AS (SELECT * FROM read_parquet(['{Files[0]}', '{Files[1]}'])) {selectOverBank}";
        return command.ExecuteScalar();
    }

    public void Dispose() => _dir.Dispose();
}
