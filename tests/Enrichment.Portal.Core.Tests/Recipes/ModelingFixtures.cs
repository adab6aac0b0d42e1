using DuckDB.NET.Data;

namespace Enrichment.Portal.Core.Tests.Recipes;

/// <summary>Builds Parquet inputs from the shipped CSVs with DuckDB, once per process.</summary>
public static class ModelingFixtures
{
    private static readonly object Gate = new();

    public static void Sql(string sql)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static List<Dictionary<string, object?>> Rows(string sql)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var list = new List<Dictionary<string, object?>>();
        while (r.Read())
        {
            var d = new Dictionary<string, object?>();
            for (var i = 0; i < r.FieldCount; i++) d[r.GetName(i)] = r.IsDBNull(i) ? null : r.GetValue(i);
            list.Add(d);
        }
        return list;
    }

    private static string Once(string name, Func<string, string> sql)
    {
        var path = Path.Combine(Path.GetTempPath(), "ep-testdata", "modeling", name);
        lock (Gate)
        {
            if (File.Exists(path)) return path;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            Sql(sql(tmp));
            File.Move(tmp, path, overwrite: true);
            return path;
        }
    }

    /// <summary>Bank Marketing as Parquet (45,211 rows).</summary>
    public static string BankParquet() => Once("bank.parquet", tmp =>
        $"COPY (SELECT * FROM read_csv('{TestData.Decompressed("bank_marketing/bank-full.csv.gz")}', delim=';', header=true)) TO '{tmp}' (FORMAT parquet)");

    /// <summary>Online Retail purchases as events: known customers, no cancellations, positive amounts.</summary>
    public static string RetailEventsParquet() => Once("retail_events.parquet", tmp => $$"""
        COPY (SELECT CAST(CAST(CustomerID AS BIGINT) AS VARCHAR) AS customer, InvoiceNo AS invoice, StockCode AS item,
                     CAST(InvoiceDate AS TIMESTAMP) AS "timestamp", 'purchase' AS eventType, Quantity * UnitPrice AS amount
              FROM read_csv('{{TestData.Decompressed("online_retail/online_retail.csv.gz")}}', header=true, types={'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'InvoiceDate': 'TIMESTAMP'}, timestampformat='%Y-%m-%d %H:%M:%S')
              WHERE CustomerID IS NOT NULL AND NOT starts_with(InvoiceNo, 'C') AND Quantity * UnitPrice > 0)
        TO '{{tmp}}' (FORMAT parquet)
        """);
}

/// <summary>Writes measured figures to the test output and to a temp file (ep-modeling-metrics.txt) for the report.</summary>
public static class Measured
{
    public static void Report(string line)
    {
        Xunit.TestContext.Current.TestOutputHelper?.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "ep-modeling-metrics.txt"), DateTime.Now.ToString("HH:mm:ss ") + line + Environment.NewLine);
    }
}
