using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Tests;

namespace Enrichment.Portal.Tests;

/// <summary>
/// Puts data into the test host's lake the way a committed batch looks (<c>lake/&lt;sandbox&gt;/&lt;dataset&gt;/&lt;batch&gt;/part-00000.parquet</c>
/// plus <c>_SUCCESS</c>), so model tests do not depend on the ingestion pipeline.
/// </summary>
public static class LakeSeed
{
    private static readonly object Gate = new();

    public static readonly object[] BankFields =
    [
        new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
        new { path = "age", type = "integer" }, new { path = "job", type = "string" }, new { path = "marital", type = "string" },
        new { path = "education", type = "string" }, new { path = "default", type = "string" }, new { path = "balance", type = "integer" },
        new { path = "housing", type = "string" }, new { path = "loan", type = "string" }, new { path = "contact", type = "string" },
        new { path = "day", type = "integer" }, new { path = "month", type = "string" }, new { path = "duration", type = "integer" },
        new { path = "campaign", type = "integer" }, new { path = "pdays", type = "integer" }, new { path = "previous", type = "integer" },
        new { path = "poutcome", type = "string" }, new { path = "y", type = "string" },
    ];

    /// <summary>Bank Marketing (45,211 rows) as Parquet with a customerId column, built once per machine. The yes/no columns stay text,
    /// as the schema says and ingestion writes them (DuckDB's CSV sniffer would make them booleans).</summary>
    public static string BankParquet()
    {
        var path = Path.Combine(Path.GetTempPath(), "ep-testdata", "models", "bank_with_ids_typed.parquet");
        lock (Gate)
        {
            if (File.Exists(path)) return path;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            Sql($"COPY (SELECT 'C-' || CAST(row_number() OVER () AS VARCHAR) AS customerId, * FROM read_csv('{TestData.Decompressed("bank_marketing/bank-full.csv.gz")}', delim=';', header=true, types={{'default': 'VARCHAR', 'housing': 'VARCHAR', 'loan': 'VARCHAR', 'y': 'VARCHAR'}})) TO '{tmp}' (FORMAT parquet)");
            File.Move(tmp, path, overwrite: true);
            return path;
        }
    }

    public static void Sql(string sql)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static async Task<string> SandboxIdAsync(HttpClient admin, string name = "prod")
    {
        var list = await PortalHost.JsonAsync(await admin.GetAsync("/api/v1/sandboxes"));
        return list["items"]!.AsArray().First(s => s!["name"]!.GetValue<string>() == name)!["id"]!.GetValue<string>();
    }

    /// <summary>Writes the rows of <paramref name="select"/> as one committed batch of the dataset.</summary>
    public static string CommitBatch(PortalHost host, string sandboxId, string datasetId, string select, string? batchId = null)
    {
        batchId ??= "batch-" + Guid.NewGuid().ToString("N")[..12];
        var folder = Path.Combine(host.DataDirectory, "lake", sandboxId, datasetId, batchId);
        Directory.CreateDirectory(folder);
        Sql($"COPY ({select}) TO '{Path.Combine(folder, "part-00000.parquet")}' (FORMAT parquet)");
        File.WriteAllText(Path.Combine(folder, "_SUCCESS"), "");
        return batchId;
    }

    /// <summary>A profile schema with the given fields and a dataset of it holding one committed batch of <paramref name="select"/>.</summary>
    public static async Task<string> DatasetAsync(PortalHost host, HttpClient admin, string name, object[] fields, string select)
    {
        var schema = await Created(admin, "/api/v1/schemas", new { name = name + " schema", @class = "profile", fields });
        var dataset = await Created(admin, "/api/v1/datasets", new { name, schemaId = schema });
        CommitBatch(host, await SandboxIdAsync(admin), dataset, select);
        return dataset;
    }

    /// <summary>Bank Marketing as a dataset (optionally only rows matching <paramref name="where"/>).</summary>
    public static Task<string> BankDatasetAsync(PortalHost host, HttpClient admin, string name, string? where = null) =>
        DatasetAsync(host, admin, name, BankFields, $"SELECT * FROM read_parquet('{BankParquet()}')" + (where is null ? "" : " WHERE " + where));

    private static async Task<string> Created(HttpClient client, string url, object body)
    {
        var response = await client.PostAsJsonAsync(url, body);
        var json = await PortalHost.JsonAsync(response);
        if (response.StatusCode != System.Net.HttpStatusCode.Created) throw new InvalidOperationException($"{url}: {(int)response.StatusCode} {json.ToJsonString()}");
        return json["id"]!.GetValue<string>();
    }

    public static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..(name.Length + 9)];
}
