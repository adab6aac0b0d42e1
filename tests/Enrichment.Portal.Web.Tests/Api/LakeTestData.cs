using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>A dataset with data in the host's lake, made the way a committed batch looks (ingestion is not needed).</summary>
public sealed record LakeDatasetInfo(string Id, string Name, string Table, string SandboxId, string BatchFolder)
{
    public string PartFile => Path.Combine(BatchFolder, "part-00000.parquet");
}

/// <summary>
/// Puts data into the test host's lake directly: a schema and a dataset through the API, then a batch folder
/// (<c>LakeCatalog.BatchFolder</c>) with <c>part-00000.parquet</c> and an empty <c>_SUCCESS</c>: exactly a committed batch.
/// </summary>
internal static class LakeTestData
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<LakeDatasetInfo>>> Shared = new();

    public const string BankSelect =
        "SELECT * FROM read_csv('{0}', delim = ';', header = true, types = {{'y': 'VARCHAR', 'default': 'VARCHAR', 'housing': 'VARCHAR', 'loan': 'VARCHAR'}})";

    public static readonly object[] BankFields =
    [
        F("age", "integer"), F("job"), F("marital"), F("education"), F("default"), F("balance", "integer"), F("housing"), F("loan"),
        F("contact"), F("day", "integer"), F("month"), F("duration", "integer"), F("campaign", "integer"), F("pdays", "integer"),
        F("previous", "integer"), F("poutcome"), F("y"),
    ];

    public static readonly object[] RetailFields =
    [
        F("InvoiceNo"), F("StockCode"), F("Description"), F("Quantity", "integer"), F("InvoiceDate", "datetime"), F("UnitPrice", "number"),
        F("CustomerID", "integer"), F("Country"),
    ];

    private static object F(string path, string type = "string") => new { path, type };

    /// <summary>Bank Marketing (bank-full) in prod, once per host; with 3 rejected records on <c>balance</c> in <c>_errors</c>.</summary>
    public static Task<LakeDatasetInfo> BankAsync(PortalHost host) => Shared.GetOrAdd(host.DataDirectory + "|bank", _ => new(async () =>
    {
        using var api = host.Api();
        var csv = TestData.Decompressed("bank_marketing/bank-full.csv.gz");
        var ds = await CreateAsync(host, api, Unique("Bank"), BankFields, string.Format(BankSelect, csv));
        var errors = Path.Combine(ds.BatchFolder, "_errors", "errors-00000.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(errors)!);
        Exec("COPY (SELECT * FROM (VALUES (3::BIGINT, 'balance', 'TYPE_MISMATCH', 'not a number', 'abc'), (9, 'balance', 'TYPE_MISMATCH', 'not a number', 'x'), " +
             $"(12, 'balance', 'TYPE_MISMATCH', 'not a number', '?')) t(\"row\", field, code, message, raw)) TO '{errors}' (FORMAT parquet)");
        return ds;
    })).Value;

    /// <summary>Online Retail (541,909 rows) in prod, once per host.</summary>
    public static Task<LakeDatasetInfo> RetailAsync(PortalHost host) => Shared.GetOrAdd(host.DataDirectory + "|retail", _ => new(async () =>
    {
        using var api = host.Api();
        var csv = TestData.Decompressed("online_retail/online_retail.csv.gz");
        return await CreateAsync(host, api, Unique("Retail"), RetailFields, $"SELECT * FROM read_csv('{csv}', header = true)");
    })).Value;

    /// <summary>Creates a schema and dataset with the key of <paramref name="api"/>, and commits the result of <paramref name="select"/> as its batch.</summary>
    public static async Task<LakeDatasetInfo> CreateAsync(PortalHost host, HttpClient api, string name, object[] fields, string select)
    {
        var schema = await CatalogApiHelpers.CreateAsync(api, "/api/v1/schemas", new { name = name + " schema", @class = "profile", fields });
        var dataset = await CatalogApiHelpers.CreateAsync(api, "/api/v1/datasets", new { name, schemaId = schema.Id() });
        var sandboxId = await SandboxIdAsync(api);
        var folder = Path.Combine(host.DataDirectory, "lake", sandboxId, dataset.Id(), Core.Ids.New());
        Directory.CreateDirectory(folder);
        Exec($"COPY ({select}) TO '{Path.Combine(folder, "part-00000.parquet")}' (FORMAT parquet)");
        await File.WriteAllTextAsync(Path.Combine(folder, LakeFolders.SuccessMarker), "");
        return new LakeDatasetInfo(dataset.Id(), name, TableSource.NormalizeName(name), sandboxId, folder);
    }

    /// <summary>The sandbox of the key (GET /api/v1/sandboxes lists only it for a non-prod key; prod admins see all, so take "prod").</summary>
    public static async Task<string> SandboxIdAsync(HttpClient api)
    {
        var list = (await api.GetFromJsonAsync<JsonObject>("/api/v1/sandboxes"))!["items"]!.AsArray();
        var one = list.Count == 1 ? list[0]! : list.First(s => s!["name"]!.GetValue<string>() == "prod")!;
        return one["id"]!.GetValue<string>();
    }

    /// <summary>A scalar computed directly with DuckDB (the reference for the tests).</summary>
    public static object? Scalar(string sql)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private static void Exec(string sql)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
